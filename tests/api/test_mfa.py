"""Authenticator apps (TOTP) through the API, on moto's user pool: adding one, signing in with its code, turning
it off, and partner staff held to having one. moto checks codes against one fixed secret for every user (see
tests/integration/test_cognito_adapter.py); what needs per-user codes is in tests/services/test_mfa.py."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api import support
from tests.api.support import assert_error, unique_email, user_id_of
from tests.conftest import token_from
from tests.totp import fresh_code, wrong_code

stack, api = support.stack, support.api
PASSWORD = "correct horse battery"


def enrolled(api, prefix: str = "mfa") -> tuple[str, str, str]:
    """A signed-up user with an authenticator app: (email, access token, secret)."""
    email = unique_email(prefix)
    token = api.signup_verified(email)
    return email, token, api.enrol_totp(token)


def my_actions(api, token: str) -> list[str]:
    page = api.get("/me/audit", token=token)
    assert page.status_code == 200, page.json
    return [e["action"] for e in page.json["items"]]


# adding the app -------------------------------------------------------------------------------------

def test_starting_gives_a_secret_and_an_otpauth_uri_labelled_with_the_users_email(api):
    email = unique_email("Ada.Byron")
    token = api.signup_verified(email)

    r = api.post("/me/mfa/totp", token=token)

    assert r.status_code == 200, r.json
    uri = urlsplit(r.json["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/Latchkey:" + email.lower().replace("@", "%40")  # the address as stored
    query = parse_qs(uri.query)
    assert query["secret"] == [r.json["secret"]] and query["issuer"] == ["Latchkey"]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    # nothing is on until a code confirms the secret
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 200


def test_a_wrong_code_leaves_the_app_off_and_the_right_one_turns_it_on(api):
    email = unique_email("mfa")
    token = api.signup_verified(email)
    secret = api.post("/me/mfa/totp", token=token).json["secret"]

    refused = api.post("/me/mfa/totp/verify", {"code": wrong_code(secret)}, token=token)
    assert_error(refused, 400, "invalid_mfa_code")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 200

    confirmed = api.post("/me/mfa/totp/verify", {"code": fresh_code(secret)}, token=token)
    assert confirmed.status_code == 200, confirmed.json
    codes = confirmed.json.pop("recovery_codes")
    assert confirmed.json == {"totp_enabled": True, "required": False, "recovery_codes_left": 10}
    assert len(set(codes)) == 10 and all(re.fullmatch("[A-Z2-7]{5}-[A-Z2-7]{5}", c) for c in codes)
    user = api.get("/me", token=token).json["user"]
    assert (user["mfa_enabled"], user["recovery_codes_left"]) == (True, 10)
    assert my_actions(api, token) == ["mfa.enabled"]


def test_a_code_is_refused_before_a_secret_was_handed_out(api):
    token = api.signup_verified(unique_email("mfa"))
    assert_error(api.post("/me/mfa/totp/verify", {"code": "123456"}, token=token), 409, "invalid_state")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    assert my_actions(api, token) == []


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "", " 123456", 123456])
def test_a_code_that_is_not_six_digits_is_a_validation_error(api, code):
    token = api.signup_verified(unique_email("mfa"))
    api.post("/me/mfa/totp", token=token)
    error = assert_error(api.post("/me/mfa/totp/verify", {"code": code}, token=token), 400, "validation_error")
    assert "code" in error["details"]


def test_the_enrolment_routes_need_a_signed_in_user(api):
    assert_error(api.post("/me/mfa/totp"), 401, "unauthenticated")
    assert_error(api.post("/me/mfa/totp/verify", {"code": "123456"}), 401, "unauthenticated")
    assert_error(api.delete("/me/mfa/totp"), 401, "unauthenticated")


# signing in with it ---------------------------------------------------------------------------------

def test_the_sign_in_asks_for_the_code_and_the_code_gives_the_tokens_login_gives(api):
    email, _, secret = enrolled(api)

    pending = api.post("/auth/login", {"email": email, "password": PASSWORD})

    assert pending.status_code == 202, pending.json
    assert pending.json["challenge"] == "totp" and pending.json["expires_in"] == 180
    assert "access_token" not in pending.json
    done = api.post("/auth/login/totp", {"session": pending.json["session"], "code": fresh_code(secret)})
    assert done.status_code == 200, done.json
    assert set(done.json) == {"access_token", "refresh_token", "expires_in", "token_type"}
    me = api.get("/me", token=done.json["access_token"]).json["user"]
    assert me["email"] == email and me["last_login_at"]
    assert api.post("/auth/refresh", {"refresh_token": done.json["refresh_token"]}).status_code == 200


def test_a_wrong_password_is_refused_as_before_and_asks_for_no_code(api):
    email, _, _ = enrolled(api)
    assert_error(api.post("/auth/login", {"email": email, "password": "not the password"}), 401,
                 "invalid_credentials")


def test_a_wrong_code_is_400_and_the_same_sign_in_can_be_finished_with_the_right_one(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]

    assert_error(api.post("/auth/login/totp", {"session": session, "code": wrong_code(secret)}), 400,
                 "invalid_mfa_code")
    done = api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)})
    assert done.status_code == 200, done.json


def test_a_finished_sign_in_cannot_be_finished_again(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    assert api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)}).status_code == 200

    again = api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)})

    assert_error(again, 401, "mfa_session_expired")
    assert "access_token" not in again.json


def test_an_unknown_session_is_401_and_a_malformed_body_400(api):
    assert_error(api.post("/auth/login/totp", {"session": "x" * 40, "code": "123456"}), 401, "mfa_session_expired")
    assert_error(api.post("/auth/login/totp", {"session": "short", "code": "123456"}), 400, "validation_error")
    assert_error(api.post("/auth/login/totp", {"session": "x" * 40, "code": "12345"}), 400, "validation_error")
    assert_error(api.post("/auth/login/totp", {"session": "x" * 40}), 400, "validation_error")


def test_a_sign_in_waits_three_minutes_for_its_code(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]

    assert api.post("/_dev/clock", {"advance_seconds": 181}).status_code == 200

    assert_error(api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)}), 401,
                 "mfa_session_expired")


def test_a_session_never_signs_in_anyone_but_the_user_whose_password_started_it(api):
    # GIVEN two users with apps (moto's pool gives every user the same secret, so their codes are the same)
    ada_email, ada, secret = enrolled(api, "ada")
    _, bob, _ = enrolled(api, "bob")
    session = api.post("/auth/login", {"email": ada_email, "password": PASSWORD}).json["session"]
    # WHEN the session is answered naming Bob, it is refused: the request has no field for a user
    named = api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret),
                                          "email": api.get("/me", token=bob).json["user"]["email"]})
    assert_error(named, 400, "validation_error")
    # AND answered with a code, it signs in Ada, whoever sends it
    tokens = api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)}).json
    assert user_id_of(api, tokens["access_token"]) == user_id_of(api, ada)


def test_wrong_codes_count_against_the_login_limit_of_the_address_and_source(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    for _ in range(10):  # login_failures_per_email: 10 in 15 minutes, per address and source
        assert_error(api.post("/auth/login/totp", {"session": session, "code": wrong_code(secret)}), 400,
                     "invalid_mfa_code")

    locked = api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)})

    assert_error(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0
    assert_error(api.post("/auth/login", {"email": email, "password": PASSWORD}), 429, "rate_limited")


def test_a_right_code_gives_its_count_back(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    for _ in range(9):  # one short of the limit (10 in 15 minutes)
        assert_error(api.post("/auth/login/totp", {"session": session, "code": wrong_code(secret)}), 400,
                     "invalid_mfa_code")
    assert api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)}).status_code == 200

    # counted and given back: the address still has one attempt, which a password and a wrong code may use
    again = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert again.status_code == 202, again.json
    assert_error(api.post("/auth/login/totp", {"session": again.json["session"], "code": wrong_code(secret)}), 400,
                 "invalid_mfa_code")
    assert_error(api.post("/auth/login/totp", {"session": again.json["session"], "code": wrong_code(secret)}), 429,
                 "rate_limited")


def test_a_code_signs_in_once_whatever_the_session(api):
    """RFC 6238 5.2: the user pool does not remember the codes it took; Latchkey does."""
    email, _, secret = enrolled(api)
    first = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    second = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    code = fresh_code(secret, margin=10)

    assert api.post("/auth/login/totp", {"session": first, "code": code}).status_code == 200
    replayed = api.post("/auth/login/totp", {"session": second, "code": code})

    error = assert_error(replayed, 400, "invalid_mfa_code")
    assert "used already" in error["message"] and "access_token" not in replayed.json


def test_a_password_reset_ends_a_sign_in_waiting_for_its_code(api):
    email, _, secret = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    assert api.post("/auth/password/forgot", {"email": email}).status_code == 202
    reset = token_from(api.last_link(email, "/reset/"))
    assert api.post("/auth/password/reset", {"token": reset, "password": "a new password"}).status_code == 200

    assert_error(api.post("/auth/login/totp", {"session": session, "code": fresh_code(secret)}), 401,
                 "mfa_session_expired")
    assert api.login_with_totp(email, secret, password="a new password")["access_token"]


# turning it off -------------------------------------------------------------------------------------

def test_a_user_without_a_partner_role_turns_the_app_off_and_signs_in_with_the_password_alone(api):
    email, token, _ = enrolled(api)

    assert api.delete("/me/mfa/totp", token=token).status_code == 204

    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    signed_in = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json["access_token"]
    assert my_actions(api, token) == ["mfa.disabled", "mfa.enabled"]


def test_turning_off_an_app_that_is_not_on_changes_nothing_and_records_nothing(api):
    token = api.signup_verified(unique_email("mfa"))
    assert api.delete("/me/mfa/totp", token=token).status_code == 204
    assert my_actions(api, token) == []


def test_turning_the_app_off_in_the_user_pool_behind_the_apis_back_is_noticed_at_the_next_sign_in(api):
    # GIVEN a staff member with an app, who turns it off with Cognito's own API (their token allows it)
    admin, partner_id, email, secret = firm_with_enrolled_admin(api)
    import boto3

    from chalicelib import container

    cfg = container.config()
    boto3.client("cognito-idp", region_name=cfg.region).admin_set_user_mfa_preference(
        UserPoolId=cfg.user_pool_id, Username=user_id_of(api, admin),
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    # WHEN they sign in with the password alone
    signed_in = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.json
    token = signed_in.json["access_token"]
    # THEN the profile knows the app is off, the firm refuses them, and the change is on record
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    assert_error(api.get(f"/partners/{partner_id}", token=token), 403, "mfa_required")
    assert my_actions(api, token)[0] == "mfa.disabled"


# partner staff ------------------------------------------------------------------------------------------

def firm_with_enrolled_admin(api) -> tuple[str, str, str, str]:
    """(admin token, partner id, admin email, admin's secret)."""
    email, token, secret = enrolled(api, "partner-admin")
    created = api.post("/partners", {"name": "Ledger & Co"}, token=token)
    assert created.status_code == 201, created.json
    return token, created.json["partner_id"], email, secret


def join_firm(api, admin: str, partner_id: str, role: str = "staff") -> tuple[str, str]:
    """A newcomer who joins the firm through a staff invitation (no app yet): (email, token)."""
    email = unique_email(role)
    invited = api.post(f"/partners/{partner_id}/staff/invitations", {"email": email, "role": role}, token=admin)
    assert invited.status_code == 201, invited.json
    joined = api.post(f"/invitations/{token_from(api.last_link(email, '/i/'))}/activate", {"password": PASSWORD})
    assert joined.status_code == 201, joined.json
    return email, joined.json["access_token"]


def test_a_new_firms_admin_is_refused_until_the_app_is_on_and_told_how_to_add_it(api):
    token = api.signup_verified(unique_email("founder"))
    partner_id = api.post("/partners", {"name": "New Firm"}, token=token).json["partner_id"]

    refused = assert_error(api.get(f"/partners/{partner_id}", token=token), 403, "mfa_required")

    assert "/me/mfa/totp" in refused["message"]
    assert api.get("/me", token=token).json["user"]["mfa_required"] is True
    api.enrol_totp(token)  # the enrolment routes stay open to them
    assert api.get(f"/partners/{partner_id}", token=token).status_code == 200


def test_staff_are_refused_on_the_firm_and_its_clients_before_the_app_and_let_in_after(api):
    admin, partner_id, _, _ = firm_with_enrolled_admin(api)
    staff_email, staff = join_firm(api, admin, partner_id)
    staff_id = user_id_of(api, staff)
    client = api.post(f"/partners/{partner_id}/clients", {
        "name": "Acme", "plan": "pro", "owners": [{"email": unique_email("owner")}], "assigned_staff": [staff_id]},
        token=admin)
    assert client.status_code == 201, client.json
    account = f"/accounts/{client.json['client_id']}"

    assert_error(api.get(f"/partners/{partner_id}/clients", token=staff), 403, "mfa_required")
    assert_error(api.get(account, token=staff), 403, "mfa_required")  # as the client's advisor
    listed = api.get(f"/partners/{partner_id}/staff", token=admin).json["items"]
    assert {s["email"]: s["mfa_enabled"] for s in listed}[staff_email] is False

    api.enrol_totp(staff)

    assert api.get(f"/partners/{partner_id}/clients", token=staff).status_code == 200
    assert api.get(account, token=staff).json["my_role"] == "advisor"
    listed = api.get(f"/partners/{partner_id}/staff", token=admin).json["items"]
    assert {s["email"]: s["mfa_enabled"] for s in listed}[staff_email] is True


def test_the_refusal_and_the_enrolment_are_in_the_firms_audit(api):
    admin, partner_id, _, _ = firm_with_enrolled_admin(api)
    _, staff = join_firm(api, admin, partner_id)
    staff_id = user_id_of(api, staff)
    assert_error(api.get(f"/partners/{partner_id}", token=staff), 403, "mfa_required")
    api.enrol_totp(staff)

    events = api.get(f"/partners/{partner_id}/audit", token=admin).json["items"]

    enabled = next(e for e in events if e["action"] == "mfa.enabled" and e["actor"]["user_id"] == staff_id)
    assert enabled["target"] == {"type": "user", "id": staff_id}
    denied = next(e for e in events if e["action"] == "access.denied" and e["actor"]["user_id"] == staff_id)
    assert denied["details"]["reason"] == "mfa_required"
    assert events.index(enabled) < events.index(denied)  # newest first
    assert my_actions(api, staff) == ["mfa.enabled"]


@pytest.mark.parametrize("role", ["staff", "partner_admin"])
def test_staff_and_partner_admins_cannot_turn_the_app_off(api, role):
    admin, partner_id, admin_email, admin_secret = firm_with_enrolled_admin(api)
    email, token = (admin_email, admin) if role == "partner_admin" else join_firm(api, admin, partner_id)
    secret = admin_secret if role == "partner_admin" else api.enrol_totp(token)

    refused = assert_error(api.delete("/me/mfa/totp", token=token), 403, "mfa_required")

    assert "stays on" in refused["message"]
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is True
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 202
    assert api.login_with_totp(email, secret)["access_token"]
    assert "mfa.disabled" not in my_actions(api, token)


def test_staff_without_the_app_may_leave_the_firm_but_not_remove_anyone(api):
    admin, partner_id, _, _ = firm_with_enrolled_admin(api)
    _, staff = join_firm(api, admin, partner_id, role="partner_admin")
    staff_id = user_id_of(api, staff)
    _, colleague = join_firm(api, admin, partner_id)
    colleague_id = user_id_of(api, colleague)
    # a partner admin without the app: removing someone else asks for it
    assert_error(api.delete(f"/partners/{partner_id}/staff/{colleague_id}", token=staff), 403, "mfa_required")

    assert api.delete(f"/partners/{partner_id}/staff/me", token=staff).status_code == 204

    assert_error(api.get(f"/partners/{partner_id}", token=staff), 404, "not_found")
    assert api.get("/me", token=staff).json["user"]["mfa_required"] is False
    names = [s["user_id"] for s in api.get(f"/partners/{partner_id}/staff", token=admin).json["items"]]
    assert staff_id not in names and colleague_id in names
    actions = [(e["action"], e["target"]["id"]) for e in api.get(f"/partners/{partner_id}/audit", token=admin).json[
        "items"] if e["actor"]["user_id"] == staff_id]
    assert ("member.left", staff_id) in actions and ("member.removed", colleague_id) not in actions


def test_someone_who_leaves_the_firm_may_turn_the_app_off(api):
    admin, partner_id, _, _ = firm_with_enrolled_admin(api)
    _, staff = join_firm(api, admin, partner_id)
    api.enrol_totp(staff)
    assert api.delete(f"/partners/{partner_id}/staff/me", token=staff).status_code == 204

    assert api.delete("/me/mfa/totp", token=staff).status_code == 204
    user = api.get("/me", token=staff).json["user"]
    assert (user["mfa_enabled"], user["mfa_required"]) == (False, False)


# Cognito's refusals through the routes (botocore stubbed where moto would not refuse) ---------------------------

@pytest.fixture
def cognito_answers(api, monkeypatch):
    """Call it to queue Cognito's next answers from then on: the API's user pool client becomes a stubbed one."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib import container

    client = boto3.client("cognito-idp", region_name="us-east-1")
    stubber = Stubber(client)

    def swap() -> Stubber:
        monkeypatch.setattr(container.deps().identity, "_client_factory", lambda: client)
        stubber.activate()
        return stubber

    yield swap
    stubber.deactivate()
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("cognito_error, status, code", [
    ("CodeMismatchException", 400, "invalid_mfa_code"),
    ("ExpiredCodeException", 400, "invalid_mfa_code"),
    ("NotAuthorizedException", 401, "mfa_session_expired"),
])
def test_cognitos_refusal_of_a_sign_in_code_is_the_contracts_error(api, cognito_answers, cognito_error, status, code):
    email, _, _ = enrolled(api)
    session = api.post("/auth/login", {"email": email, "password": PASSWORD}).json["session"]
    cognito_answers().add_client_error("admin_respond_to_auth_challenge", service_error_code=cognito_error)

    refused = api.post("/auth/login/totp", {"session": session, "code": "123456"})

    assert_error(refused, status, code)
    assert "access_token" not in refused.json


@pytest.mark.parametrize("cognito_error, status, code", [
    ("CodeMismatchException", 400, "invalid_mfa_code"),
    ("EnableSoftwareTokenMFAException", 400, "invalid_mfa_code"),
    ("ExpiredCodeException", 400, "invalid_mfa_code"),
    ("NotAuthorizedException", 401, "unauthenticated"),
])
def test_cognitos_refusal_of_an_enrolment_code_is_the_contracts_error(api, cognito_answers, cognito_error, status,
                                                                       code):
    token = api.signup_verified(unique_email("mfa"))
    stubbed = cognito_answers()
    stubbed.add_response("associate_software_token", {"SecretCode": "JBSWY3DPEHPK3PXP"})
    assert api.post("/me/mfa/totp", token=token).status_code == 200
    stubbed.add_client_error("verify_software_token", service_error_code=cognito_error)

    assert_error(api.post("/me/mfa/totp/verify", {"code": "123456"}, token=token), status, code)
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False


# the landing page's forms, without JavaScript ------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def invited_app_user(api) -> tuple[str, str, str, str, str]:
    """An account owner, and a user with an app invited to the account: (owner, account, email, secret, link)."""
    owner, account = api.user_with_account(unique_email("owner"))
    email, _, secret = enrolled(api, "invitee")
    assert api.post(f"/accounts/{account}/invitations", {"email": email, "role": "collaborator"},
                    token=owner).status_code == 201
    return owner, account, email, secret, token_from(api.last_link(email, "/i/"))


def code_page_session(response) -> str:
    import re

    html = response.body.decode()
    assert 'id="totp-form"' in html and 'name="code"' in html, html[:500]
    return re.search(r'name="session" value="([^"]+)"', html).group(1)


def members_of(api, account: str, owner: str) -> list[str]:
    return [m["email"] for m in api.get(f"/accounts/{account}/members", token=owner).json["items"]]


def test_the_landing_pages_sign_in_asks_an_app_user_for_the_code_and_then_accepts(api):
    from urllib.parse import urlencode

    owner, account, email, secret, link = invited_app_user(api)

    asked = api.post(f"/i/{link}/signin", raw="password=correct+horse+battery", headers=FORM)

    assert asked.status_code == 200 and f'action="/i/{link}/signin/totp"' in asked.body.decode()
    session = code_page_session(asked)
    assert email not in members_of(api, account, owner)
    wrong = api.post(f"/i/{link}/signin/totp", raw=urlencode({"session": session, "code": wrong_code(secret)}),
                     headers=FORM)
    assert wrong.status_code == 400 and "not correct" in wrong.body.decode()
    assert code_page_session(wrong) == session  # the same sign-in, asked again
    done = api.post(f"/i/{link}/signin/totp", raw=urlencode({"session": session, "code": fresh_code(secret)}),
                    headers=FORM)
    assert done.status_code == 200 and "You now have access" in done.body.decode()
    assert email in members_of(api, account, owner)


def test_the_landing_pages_code_step_sends_an_expired_or_unknown_sign_in_back_to_the_password(api):
    from urllib.parse import urlencode

    owner, account, email, secret, link = invited_app_user(api)

    for session in ("x" * 40, "short"):
        again = api.post(f"/i/{link}/signin/totp", raw=urlencode({"session": session, "code": fresh_code(secret)}),
                         headers=FORM)
        assert again.status_code == 401 and 'id="signin-form"' in again.body.decode()
        assert "Sign in again" in again.body.decode()
    assert email not in members_of(api, account, owner)


def test_the_code_step_with_someone_elses_sign_in_is_403_email_mismatch_as_the_json_route_says(api):
    from urllib.parse import urlencode

    owner, account, email, _, link = invited_app_user(api)
    other, _, other_secret = enrolled(api, "other")
    session = api.post("/auth/login", {"email": other, "password": PASSWORD}).json["session"]

    refused = api.post(f"/i/{link}/signin/totp", raw=urlencode({"session": session, "code": fresh_code(other_secret)}),
                       headers=FORM)

    assert refused.status_code == 403 and refused.headers["Content-Type"].startswith("text/html")
    assert email not in members_of(api, account, owner) and other not in members_of(api, account, owner)


def test_adding_the_app_ends_every_other_session_and_keeps_the_one_that_added_it(api):
    """A session that began with the password alone (a stolen one, say) does not carry on once the app is on."""
    email = unique_email("sessions")
    api.signup_verified(email)
    other = api.post("/auth/login", {"email": email, "password": PASSWORD}).json
    mine = api.post("/auth/login", {"email": email, "password": PASSWORD}).json
    partner = api.post("/partners", {"name": "Kept & Co"}, token=mine["access_token"]).json["partner_id"]

    secret = api.enrol_totp(mine["access_token"])

    assert_error(api.get("/me", token=other["access_token"]), 401, "unauthenticated")
    assert_error(api.get(f"/partners/{partner}", token=other["access_token"]), 401, "unauthenticated")
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.get("/me", token=mine["access_token"]).status_code == 200  # the session that added the app
    assert api.get(f"/partners/{partner}", token=mine["access_token"]).status_code == 200
    # its own refresh token ends too: the next session begins with the app's code
    assert api.post("/auth/refresh", {"refresh_token": mine["refresh_token"]}).status_code == 401
    assert api.get("/me", token=api.login_with_totp(email, secret)["access_token"]).status_code == 200


def test_adding_and_turning_off_the_app_are_each_mailed_to_the_login(api):
    email = unique_email("told")
    token = api.signup_verified(email)
    api.enrol_totp(token)
    added = [m for m in api.mails_to(email) if m["subject"] == "The authenticator app on your Latchkey login changed"]
    assert len(added) == 1 and "was added to your Latchkey login" in added[0]["text"]
    assert api.delete("/me/mfa/totp", token=token).status_code == 204
    told = [m for m in api.mails_to(email) if m["subject"] == "The authenticator app on your Latchkey login changed"]
    assert len(told) == 2 and "turned off" in told[0]["text"]  # newest first
