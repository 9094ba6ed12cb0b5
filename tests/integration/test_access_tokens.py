"""AccessTokenVerifier: real moto access tokens pass; everything forged, foreign or stale is refused."""
from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.access_tokens import AccessTokenVerifier
from chalicelib.domain.errors import Unauthenticated
from tests.conftest import MOTO_JWKS

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Latchkey"
CLIENT_ID = "latchkeyclient"


def _read_gzipped_json(path):
    with gzip.open(path) as fh:
        return json.loads(fh.read())


PUBLIC_JWKS = _read_gzipped_json(MOTO_JWKS)
# moto signs its tokens with this key; its public half is PUBLIC_JWKS (kid "dummy").
MOTO_SIGNING_KEY = jwt.PyJWK(_read_gzipped_json(MOTO_JWKS.with_name("jwks-private.json.gz"))).key


class CountingFetch:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict:
        self.urls.append(url)
        return PUBLIC_JWKS


@pytest.fixture
def fetch():
    return CountingFetch()


@pytest.fixture
def verifier(fetch):
    return AccessTokenVerifier("https://example.test/jwks.json", ISSUER, CLIENT_ID, fetch=fetch)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "5f0c-sub", "client_id": CLIENT_ID, "token_use": "access",
            "username": "usr_ada", "iat": now, "auth_time": now, "exp": now + 3600, "jti": "j-1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict, key=MOTO_SIGNING_KEY, kid: str = "dummy") -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, secret: bytes | None = None) -> str:
    """A token put together by hand (PyJWT rightly refuses to make these)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    signature = hmac.new(secret, head.encode(), hashlib.sha256).digest() if secret is not None else b""
    return head + "." + b64(signature)


def refused(verifier, token: str) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token)


# the real thing ----------------------------------------------------------------------------------

def test_a_real_access_token_from_the_user_pool_is_accepted(aws):
    import boto3

    from chalicelib.adapters.cognito import CognitoIdentity

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = CognitoIdentity(lambda: idp, aws["USER_POOL_ID"], aws["USER_POOL_CLIENT_ID"])
    pool.create_user("usr_ada", "ada@example.com", "correct horse battery", email_verified=True)
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{aws['USER_POOL_ID']}"
    verifier = AccessTokenVerifier(f"file://{MOTO_JWKS}", issuer, aws["USER_POOL_CLIENT_ID"])

    principal = verifier.verify(pool.sign_in("usr_ada", "correct horse battery").access_token, "198.51.100.7")

    assert (principal.user_id, principal.source_ip) == ("usr_ada", "198.51.100.7")
    # the ID token of the same sign-in is not an access token
    id_token = idp.admin_initiate_auth(
        UserPoolId=aws["USER_POOL_ID"], ClientId=aws["USER_POOL_CLIENT_ID"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "usr_ada", "PASSWORD": "correct horse battery"})["AuthenticationResult"]["IdToken"]
    refused(verifier, id_token)
    # nor is an access token of another app client of the pool
    other = AccessTokenVerifier(f"file://{MOTO_JWKS}", issuer, "another-client")
    refused(other, pool.sign_in("usr_ada", "correct horse battery").access_token)


def test_a_well_formed_token_signed_with_the_pool_key_is_accepted(verifier):
    assert verifier.verify(sign(claims())).user_id == "usr_ada"


# claims --------------------------------------------------------------------------------------------

def test_an_id_token_is_refused(verifier):
    refused(verifier, sign(claims(token_use="id", client_id=None, aud=CLIENT_ID)))
    refused(verifier, sign(claims(token_use="id")))


def test_a_token_for_another_app_client_is_refused(verifier):
    refused(verifier, sign(claims(client_id="someone-elses-client")))
    refused(verifier, sign(claims(client_id=None)))


def test_a_token_from_another_issuer_is_refused(verifier):
    refused(verifier, sign(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")))
    refused(verifier, sign(claims(iss=None)))


def test_an_expired_token_is_refused(verifier):
    an_hour_ago = int(time.time()) - 3600
    refused(verifier, sign(claims(iat=an_hour_ago - 3600, exp=an_hour_ago)))
    refused(verifier, sign(claims(exp=None)))


def test_a_token_without_a_username_is_refused(verifier):
    refused(verifier, sign(claims(username=None)))
    refused(verifier, sign(claims(username="")))


# signatures ----------------------------------------------------------------------------------------

def test_an_unsigned_token_is_refused(verifier):
    refused(verifier, unsigned({"alg": "none", "typ": "JWT", "kid": "dummy"}, claims()))
    refused(verifier, unsigned({"alg": "None", "kid": "dummy"}, claims()))


def test_an_hs256_token_keyed_with_the_public_key_is_refused(verifier):
    public_pem = MOTO_SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    refused(verifier, unsigned({"alg": "HS256", "typ": "JWT", "kid": "dummy"}, claims(), secret=public_pem))


def test_a_token_signed_with_another_rsa_key_is_refused(verifier):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(verifier, sign(claims(), key=stranger))
    refused(verifier, sign(claims(), key=stranger, kid="stranger"))


def test_a_tampered_payload_is_refused(verifier):
    head, _, signature = sign(claims()).split(".")
    refused(verifier, f"{head}.{b64(json.dumps(claims(username='usr_owner')).encode())}.{signature}")


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "Bearer x", "...", "eyJhbGciOiJSUzI1NiJ9.e30."])
def test_garbage_is_refused(verifier, garbage):
    refused(verifier, garbage)


# the key set -----------------------------------------------------------------------------------------

def test_the_key_set_is_fetched_once_and_cached(verifier, fetch):
    for n in range(5):
        verifier.verify(sign(claims(username=f"usr_{n}")))

    assert fetch.urls == ["https://example.test/jwks.json"]


def test_unknown_key_ids_do_not_refetch_the_key_set_on_every_request(verifier, fetch):
    verifier.verify(sign(claims()))
    for _ in range(5):
        refused(verifier, sign(claims(), kid="rotated-in-later"))

    assert len(fetch.urls) == 1


def test_a_stale_key_set_is_fetched_again(fetch):
    verifier = AccessTokenVerifier("https://example.test/jwks.json", ISSUER, CLIENT_ID, refresh_seconds=-1,
                                   fetch=fetch)
    verifier.verify(sign(claims()))
    verifier.verify(sign(claims()))

    assert len(fetch.urls) == 2


def test_the_first_token_is_verified_even_right_after_boot(verifier, fetch, monkeypatch):
    from types import SimpleNamespace

    from chalicelib.adapters import access_tokens

    monkeypatch.setattr(access_tokens, "time", SimpleNamespace(monotonic=lambda: 5.0))

    assert verifier.verify(sign(claims())).user_id == "usr_ada"
    assert len(fetch.urls) == 1
