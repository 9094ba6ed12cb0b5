"""A firm's admin over HTTP against the local stack: refused until an authenticator app is added, then signing in
with its code. The stack's moto pool checks the codes (MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP)."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.totp import fresh_code, wrong_code

pytestmark = pytest.mark.e2e
PASSWORD = "a good password"


def _signed_up(stack, email: str) -> str:
    requests.post(f"{stack}/auth/signup", json={"email": email, "password": PASSWORD, "first_name": "Fay",
                                                "last_name": "Firm"})
    link = requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"][0]["links"][0]
    assert requests.post(f"{stack}/auth/verify-email", json={"token": link.rsplit("/", 1)[1]}).status_code == 200
    return requests.post(f"{stack}/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]


def test_a_firms_admin_adds_an_app_signs_in_with_its_code_and_cannot_turn_it_off(stack):
    email = f"firm-admin-{uuid.uuid4().hex[:8]}@example.com"
    auth = {"Authorization": f"Bearer {_signed_up(stack, email)}"}
    firm = requests.post(f"{stack}/partners", json={"name": "Ledger & Co"}, headers=auth).json()["partner_id"]
    # GIVEN the firm refuses its admin without an app, and says how to add one
    refused = requests.get(f"{stack}/partners/{firm}", headers=auth)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"
    assert "/me/mfa/totp" in refused.json()["error"]["message"]
    # WHEN they add one (a wrong code first)
    started = requests.post(f"{stack}/me/mfa/totp", headers=auth).json()
    assert started["otpauth_uri"].startswith("otpauth://totp/Latchkey:")
    secret = started["secret"]
    wrong = requests.post(f"{stack}/me/mfa/totp/verify", json={"code": wrong_code(secret)}, headers=auth)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_mfa_code"
    confirmed = requests.post(f"{stack}/me/mfa/totp/verify", json={"code": fresh_code(secret)}, headers=auth).json()
    recovery_codes = confirmed.pop("recovery_codes")
    assert confirmed == {"totp_enabled": True, "required": True, "recovery_codes_left": 10}
    # THEN the firm lets them in, and the next sign-in asks for the code
    assert requests.get(f"{stack}/partners/{firm}", headers=auth).status_code == 200
    pending = requests.post(f"{stack}/auth/login", json={"email": email, "password": PASSWORD})
    assert pending.status_code == 202 and pending.json()["challenge"] == "totp"
    session = pending.json()["session"]
    bad = requests.post(f"{stack}/auth/login/totp", json={"session": session, "code": wrong_code(secret)})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_mfa_code"
    tokens = requests.post(f"{stack}/auth/login/totp", json={"session": session, "code": fresh_code(secret)})
    assert tokens.status_code == 200, tokens.text
    fresh = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    assert requests.get(f"{stack}/partners/{firm}", headers=fresh).json()["my_role"] == "partner_admin"
    reused = requests.post(f"{stack}/auth/login/totp", json={"session": session, "code": fresh_code(secret)})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "mfa_session_expired"
    # AND the app stays on while they hold the role
    kept = requests.delete(f"{stack}/me/mfa/totp", headers=fresh)
    assert kept.status_code == 403 and kept.json()["error"]["code"] == "mfa_required"
    # AND when the phone is lost, a recovery code with the password lets them back in, with the app off,
    # and the firm refuses them again until a new app is added
    back = requests.post(f"{stack}/auth/login/recovery",
                         json={"email": email, "password": PASSWORD, "recovery_code": recovery_codes[4]})
    assert back.status_code == 200, back.text
    again = {"Authorization": f"Bearer {back.json()['access_token']}"}
    assert requests.get(f"{stack}/partners/{firm}", headers=fresh).status_code == 401  # the old session ended
    assert requests.get(f"{stack}/partners/{firm}", headers=again).json()["error"]["code"] == "mfa_required"
    told = requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"][0]
    assert "A recovery code was used to sign in" in told["text"]
    reused = requests.post(f"{stack}/auth/login/recovery",
                           json={"email": email, "password": PASSWORD, "recovery_code": recovery_codes[4]})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "invalid_state"  # no app to recover from
