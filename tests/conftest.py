"""Shared fixtures: an in-process AWS (moto) with the stack provisioned, and a Chalice test client."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

# Tests never reach AWS and never a configured endpoint (mock_aws ignores requests sent to one).
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(_var, None)
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                   # moto's user pool checks authenticator codes (against its one fixed secret) as `make run`'s does
                   "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true"})

import moto  # noqa: E402  (imported before any client is created, so it can intercept them)

from scripts import moto_patches  # noqa: E402

# moto's transactions and queries cost what they touch, not the whole table (as in `make run`'s moto server);
# tests/integration/test_moto_patches.py checks that the patched moto ends every transaction as moto does.
moto_patches.apply()


def _share_botocore_data() -> None:
    """Every botocore session of the test process reads the SDK's service descriptions once. Each test starts a
    new mock and so new sessions (the app's, PynamoDB's, the tests' own), and each session would parse the same
    JSON again: most of a test's setup time. The descriptions are read-only data, as within one session."""
    import functools

    import botocore.session

    botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.session.create_loader)


_share_botocore_data()


def _share_moto_signing_key() -> None:
    """moto's user pools all sign with one fixed RSA key, which each new pool imports again from its JWK
    (recovering its primes: about 120 ms a test). The import is a pure function of the JWK; do it once."""
    import functools
    import json as _json

    from joserfc._rfc7518.rsa_key import RSABinding

    original = RSABinding.import_private_key  # bound to the class
    imported = functools.lru_cache(maxsize=8)(lambda text: original(_json.loads(text)))
    RSABinding.import_private_key = classmethod(lambda cls, obj: imported(_json.dumps(obj, sort_keys=True)))


_share_moto_signing_key()

MOTO_JWKS = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
MAIL_FROM = "Latchkey <no-reply@latchkey.example>"
BASE_URL = "https://latchkey.test"
# Every request of a test client comes from one source (127.0.0.1) and a few users: the limits per source and
# per user would refuse a test module's setup long before its test. Their own tests set them low again.
TEST_RATE_LIMITS = ('{"signups_per_source_per_hour": 100000, "resets_per_source_per_hour": 100000, '
                    '"login_failures_per_source": 100000, "accounts_per_user_per_day": 100000}')


@pytest.fixture
def aws(monkeypatch):
    """moto in process with the table, user pool and sender identity; the app's environment set."""
    from chalicelib import container
    from chalicelib.adapters.provision import provision

    with moto.mock_aws():
        container.reset()
        env = provision("us-east-1", "latchkey-local", MAIL_FROM)  # the table the local stage names
        env.update({"STAGE": "local", "PUBLIC_BASE_URL": BASE_URL, "JWKS_URL": f"file://{MOTO_JWKS}",
                    "PLATFORM_REVIEWER_EMAILS": "reviewer@latchkey.example", "RATE_LIMITS": TEST_RATE_LIMITS})
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        container.reset()
        yield env
        container.reset()


@pytest.fixture
def client(aws):
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app, stage_name="local") as c:
        yield c


def _inline(node, components: dict):
    """A schema with every `#/components/schemas/...` reference replaced by the component itself."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            return _inline(components[ref.rsplit("/", 1)[1]], components)
        return {k: _inline(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, components) for v in node]
    return node


_checkers: dict = {}


def check_against_contract(method: str, path: str, response) -> None:
    """Every JSON answer the tests receive matches the OpenAPI document's schema for its route and status."""
    import jsonschema

    from chalicelib.api.openapi import document

    if "doc" not in _checkers:
        doc = document(local=True)
        routes = []
        for template, operations in doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)) + "$")
            routes.append((template.count("{"), pattern, operations))
        _checkers["doc"] = doc
        _checkers["routes"] = sorted(routes, key=lambda r: r[0])  # literal segments win over parameters
    bare = path.split("?", 1)[0]
    for _, pattern, operations in _checkers["routes"]:
        if pattern.match(bare) and method.lower() in operations:
            operation = operations[method.lower()]
            break
    else:
        return  # not a route of the API (the tests also probe unknown paths)
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{method} {bare} answered {response.status_code}, not in the OpenAPI document"
    content = (answer.get("content") or {}).get("application/json")
    if content is None or response.json is None:
        return
    key = (method, operation["operationId"], response.status_code)
    if key not in _checkers:
        schema = _inline(content["schema"], _checkers["doc"]["components"]["schemas"])
        _checkers[key] = jsonschema.Draft202012Validator(schema)
    errors = [e.message for e in _checkers[key].iter_errors(response.json)]
    assert not errors, f"{method} {bare} {response.status_code} breaks the documented schema: {errors[:3]}"


class Api:
    """A small JSON client over chalice.test.Client, the way an HTTP client would use the API; every JSON answer
    is checked against the OpenAPI document."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None, raw=None):
        hdrs = {"Content-Type": "application/json"}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=hdrs, body=payload)
        try:
            response.json = json.loads(response.body) if response.body else None
        except ValueError:
            response.json = None
        check_against_contract(method.upper(), path, response)
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    # flows -------------------------------------------------------------------------------------
    def mails_to(self, email: str) -> list[dict]:
        return self.get(f"/_dev/outbox?to={email}").json["items"]

    def last_link(self, email: str, prefix: str) -> str:
        for mail in self.mails_to(email):
            for link in mail["links"]:
                if link.startswith(BASE_URL + prefix):
                    return link
        raise AssertionError(f"no {prefix} link mailed to {email}")

    def signup_verified(self, email: str, password: str = "correct horse battery", first="Ada", last="Lovelace"):
        assert self.post("/auth/signup", {"email": email, "password": password, "first_name": first,
                                          "last_name": last}).status_code == 202
        token = self.last_link(email, "/verify/").rsplit("/", 1)[1]
        assert self.post("/auth/verify-email", {"token": token}).status_code == 200
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def enrol_totp(self, token: str) -> str:
        """Add an authenticator app for the signed-in user, as a person would; returns its secret."""
        from tests.totp import fresh_code

        started = self.post("/me/mfa/totp", token=token)
        assert started.status_code == 200, started.json
        secret = started.json["secret"]
        confirmed = self.post("/me/mfa/totp/verify", {"code": fresh_code(secret)}, token=token)
        assert confirmed.status_code == 200, confirmed.json
        assert confirmed.json["totp_enabled"] is True
        self.recovery_codes = confirmed.json["recovery_codes"]  # the set the person was shown, for what needs it
        return secret

    def login_with_totp(self, email: str, secret: str, password: str = "correct horse battery") -> dict:
        """Both steps of a sign-in with an authenticator app; returns the tokens."""
        from tests.totp import fresh_code

        pending = self.post("/auth/login", {"email": email, "password": password})
        assert pending.status_code == 202, pending.json
        done = self.post("/auth/login/totp", {"session": pending.json["session"], "code": fresh_code(secret)})
        assert done.status_code == 200, done.json
        return done.json

    def user_with_account(self, email: str, type_: str = "personal", name: str = "Household"):
        token = self.signup_verified(email)
        account = self.post("/accounts", {"name": name, "type": type_}, token=token)
        assert account.status_code == 201, account.json
        return token, account.json["account_id"]


@pytest.fixture
def api(client):
    return Api(client)


def token_from(link: str) -> str:
    return re.sub(r".*/", "", link)


@pytest.fixture(scope="module")
def table():
    """The one table on moto in process, for a whole test module (tests make their own ids: FakeSecrets)."""
    from tests.fakes import moto_table

    with moto_table():
        yield
