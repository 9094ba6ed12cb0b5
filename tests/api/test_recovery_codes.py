"""Recovery codes: the way back in for someone who lost their authenticator app, and each way it is attacked
(a used, replaced or foreign code, a wrong password, guessing, a token thief asking for new codes)."""
from __future__ import annotations

import pytest

from tests.api import support
from tests.api.support import assert_error, unique_email, user_id_of
from tests.conftest import token_from
from tests.totp import fresh_code

stack, api = support.stack, support.api
PASSWORD = "correct horse battery"
CHANGED = "The authenticator app on your Latchkey login changed"


def with_app(api, prefix: str = "lost") -> tuple[str, str, str, list[str]]:
    """A user with an authenticator app: (email, access token, secret, the recovery codes they were shown)."""
    email = unique_email(prefix)
    token = api.signup_verified(email)
    secret = api.enrol_totp(token)
    return email, token, secret, list(api.recovery_codes)


def enrol_again(api, token: str) -> str:
    """A new app for the same user. moto's pool checks every user's codes against one secret, so this one's code
    is the one the first app gave if the same 30 seconds are still running, and a code confirms an app once:
    the business clock moves past the marker's three minutes instead of the test waiting for the next code."""
    from chalicelib import container

    container.clock.advance(240)
    return api.enrol_totp(token)


def recover(api, email: str, code: str, password: str = PASSWORD):
    return api.post("/auth/login/recovery", {"email": email, "password": password, "recovery_code": code})


def my_actions(api, token: str) -> list[dict]:
    return api.get("/me/audit", token=token).json["items"]


def test_a_recovery_code_and_the_password_sign_in_without_the_app_and_turn_it_off(api):
    email, old_token, _, codes = with_app(api)

    # typed as people type: lower case, spaces instead of the dash
    signed_in = recover(api, email, codes[3].lower().replace("-", " "))

    assert signed_in.status_code == 200, signed_in.json
    token = signed_in.json["access_token"]
    assert signed_in.json["refresh_token"] and signed_in.json["token_type"] == "Bearer"
    user = api.get("/me", token=token).json["user"]
    assert (user["mfa_enabled"], user["recovery_codes_left"], user["last_login_at"] is not None) == (False, 0, True)
    # the next sign-in needs the password alone; every session from before is over
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 200
    assert_error(api.get("/me", token=old_token), 401, "unauthenticated")
    disabled = my_actions(api, token)[0]
    assert (disabled["action"], disabled["details"]) == ("mfa.disabled", {"via": "recovery_code"})
    told = [m for m in api.mails_to(email) if m["subject"] == CHANGED]
    assert "A recovery code was used to sign in" in told[0]["text"]  # newest first


def test_a_code_signs_in_once_and_a_new_app_voids_the_whole_old_set(api):
    email, _, _, codes = with_app(api)
    token = recover(api, email, codes[0]).json["access_token"]

    assert_error(recover(api, email, codes[0]), 409, "invalid_state")  # the app is off: nothing to recover from
    enrol_again(api, token)
    new_codes = list(api.recovery_codes)

    for old in (codes[0], codes[1]):
        refused = assert_error(recover(api, email, old), 400, "invalid_mfa_code")
        assert "used already" in refused["message"]
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is True
    assert recover(api, email, new_codes[9]).status_code == 200


def test_a_wrong_password_with_a_right_code_changes_nothing(api):
    email, token, secret, codes = with_app(api)

    assert_error(recover(api, email, codes[0], password="not the password"), 401, "invalid_credentials")

    user = api.get("/me", token=token).json["user"]
    assert (user["mfa_enabled"], user["recovery_codes_left"]) == (True, 10)
    assert api.login_with_totp(email, secret)["access_token"]
    assert recover(api, email, codes[0]).status_code == 200  # the code was not used up


def test_one_users_code_opens_nobody_elses_login(api):
    _, _, _, mine = with_app(api, "thief")
    victim, victim_token, _, _ = with_app(api, "victim")

    assert_error(recover(api, victim, mine[0]), 400, "invalid_mfa_code")

    assert api.get("/me", token=victim_token).json["user"]["mfa_enabled"] is True


def test_guessed_codes_count_against_the_login_limit_of_the_address_and_source(api):
    email, _, _, codes = with_app(api)
    guesses = [f"AAAAA-AAAA{c}" for c in "ABCDEFGHIJ"]  # well-formed, and not theirs
    for guess in guesses:  # login_failures_per_email: 10 in 15 minutes, per address and source
        assert_error(recover(api, email, guess), 400, "invalid_mfa_code")

    locked = recover(api, email, codes[0])

    assert_error(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize("code", ["", "ABCDE", "ABCDE-FGHIJ-KLMNO-PQRST-U", "ABCDE-FGHI1", "<script>", "ABCDE\u200b-FGHIJ"])
def test_a_code_that_cannot_be_one_is_refused_before_anything_is_asked(api, code):
    email, token, _, _ = with_app(api)

    refused = recover(api, email, code)

    assert refused.status_code == 400 and refused.json["error"]["code"] in ("validation_error", "invalid_mfa_code")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is True


def test_without_an_app_there_is_nothing_to_recover_and_no_tokens_are_given(api):
    email = unique_email("noapp")
    api.signup_verified(email)

    refused = assert_error(recover(api, email, "ABCDE-FGHIJ"), 409, "invalid_state")

    assert "password alone" in refused["message"]
    assert_error(recover(api, unique_email("nobody"), "ABCDE-FGHIJ"), 401, "invalid_credentials")


def test_new_codes_need_the_password_again_and_void_the_old_set(api):
    email, token, _, codes = with_app(api)

    assert_error(api.post("/me/mfa/recovery-codes", {"password": "a stolen token, no password"}, token=token), 401,
                 "invalid_credentials")
    assert api.get("/me", token=token).json["user"]["recovery_codes_left"] == 10

    renewed = api.post("/me/mfa/recovery-codes", {"password": PASSWORD}, token=token)

    assert renewed.status_code == 200, renewed.json
    new_codes = renewed.json["recovery_codes"]
    assert renewed.json["recovery_codes_left"] == 10 and not set(new_codes) & set(codes)
    assert_error(recover(api, email, codes[0]), 400, "invalid_mfa_code")
    assert my_actions(api, token)[0]["action"] == "mfa.recovery_codes_renewed"
    assert "New recovery codes were made" in [m for m in api.mails_to(email) if m["subject"] == CHANGED][0]["text"]
    assert recover(api, email, new_codes[0]).status_code == 200


def test_new_codes_without_an_app_are_refused(api):
    token = api.signup_verified(unique_email("noapp"))

    assert_error(api.post("/me/mfa/recovery-codes", {"password": PASSWORD}, token=token), 409, "invalid_state")
    assert_error(api.post("/me/mfa/recovery-codes", {"password": PASSWORD}), 401, "unauthenticated")


def test_turning_the_app_off_takes_its_recovery_codes_with_it(api):
    email, token, _, codes = with_app(api)
    assert api.delete("/me/mfa/totp", token=token).status_code == 204
    assert api.get("/me", token=token).json["user"]["recovery_codes_left"] == 0

    # a new app, a new set (from a new session: the one that added the first app cannot ask the pool for another)
    enrol_again(api, api.post("/auth/login", {"email": email, "password": PASSWORD}).json["access_token"])

    assert_error(recover(api, email, codes[0]), 400, "invalid_mfa_code")


def test_a_firms_staff_member_back_in_with_a_code_is_refused_by_the_firm_until_a_new_app_is_added(api):
    admin = api.signup_verified(unique_email("firm-admin"))
    partner_id = api.post("/partners", {"name": "Recovering & Co"}, token=admin).json["partner_id"]
    api.enrol_totp(admin)  # the session that added the app goes on
    staff_email = unique_email("staff")
    invited = api.post(f"/partners/{partner_id}/staff/invitations", {"email": staff_email, "role": "staff"},
                       token=admin)
    assert invited.status_code == 201, invited.json
    staff = api.post(f"/invitations/{token_from(api.last_link(staff_email, '/i/'))}/activate",
                     {"password": PASSWORD}).json["access_token"]
    api.enrol_totp(staff)
    codes = list(api.recovery_codes)
    assert api.get(f"/partners/{partner_id}", token=staff).status_code == 200

    back = recover(api, staff_email, codes[0]).json["access_token"]

    assert_error(api.get(f"/partners/{partner_id}", token=staff), 401, "unauthenticated")  # the old session
    assert_error(api.get(f"/partners/{partner_id}", token=back), 403, "mfa_required")
    enrol_again(api, back)
    assert api.get(f"/partners/{partner_id}", token=back).status_code == 200
    staff_id = user_id_of(api, back)
    actions = [(e["action"], e["details"].get("via")) for e in
               api.get(f"/partners/{partner_id}/audit", token=admin).json["items"]
               if e["actor"]["user_id"] == staff_id and e["action"].startswith("mfa.")]
    assert actions[:3] == [("mfa.enabled", None), ("mfa.disabled", "recovery_code"), ("mfa.enabled", None)]


def test_an_authenticator_code_is_no_recovery_code(api):
    email, token, secret, _ = with_app(api)

    assert_error(recover(api, email, fresh_code(secret)), 400, "validation_error")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is True


# the landing page, without JavaScript --------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_the_landing_pages_code_step_lets_someone_without_the_app_in_with_a_recovery_code(api):
    from urllib.parse import urlencode

    owner, account = api.user_with_account(unique_email("owner"))
    email, _, _, codes = with_app(api, "invitee")
    assert api.post(f"/accounts/{account}/invitations", {"email": email, "role": "collaborator"},
                    token=owner).status_code == 201
    link = token_from(api.last_link(email, "/i/"))
    asked = api.post(f"/i/{link}/signin", raw=urlencode({"password": PASSWORD}), headers=FORM).body.decode()
    assert f'action="/i/{link}/signin/recovery"' in asked and "Lost your authenticator app?" in asked

    def members():
        return [m["email"] for m in api.get(f"/accounts/{account}/members", token=owner).json["items"]]

    wrong = api.post(f"/i/{link}/signin/recovery", raw=urlencode({"password": PASSWORD, "recovery_code": "AAAAA-AAAAA"}),
                     headers=FORM)
    assert wrong.status_code == 400 and "not valid" in wrong.body.decode()
    assert '<details id="recovery" open>' in wrong.body.decode()  # the form the person used stays open
    bad_password = api.post(f"/i/{link}/signin/recovery", raw=urlencode({"password": "nope", "recovery_code": codes[1]}),
                            headers=FORM)
    assert bad_password.status_code == 401 and "password is not correct" in bad_password.body.decode()
    assert "Your password is right" not in bad_password.body.decode()
    assert email not in members()

    done = api.post(f"/i/{link}/signin/recovery", raw=urlencode({"password": PASSWORD, "recovery_code": codes[1]}),
                    headers=FORM)

    assert done.status_code == 200 and "You now have access" in done.body.decode()
    assert email in members()
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 200  # the app is off


# what an outsider tried next ------------------------------------------------------------------------

def test_a_sign_in_waiting_for_its_code_ends_when_a_recovery_code_is_used(api):
    """Someone with the password and the old phone starts a sign-in; the owner recovers meanwhile: the held
    sign-in is over, and nothing turns the app back on."""
    email, _, secret, codes = with_app(api)
    held = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert held.status_code == 202, held.json

    token = recover(api, email, codes[0]).json["access_token"]

    late = api.post("/auth/login/totp", {"session": held.json["session"], "code": fresh_code(secret)})
    assert_error(late, 401, "mfa_session_expired")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False
    assert [e["action"] for e in my_actions(api, token)] == ["mfa.disabled", "mfa.enabled"]


def test_a_sign_in_waiting_for_its_code_ends_when_the_app_is_turned_off(api):
    email, token, secret, _ = with_app(api)
    held = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert held.status_code == 202, held.json

    assert api.delete("/me/mfa/totp", token=token).status_code == 204

    late = api.post("/auth/login/totp", {"session": held.json["session"], "code": fresh_code(secret)})
    assert_error(late, 401, "mfa_session_expired")
    assert api.get("/me", token=token).json["user"]["mfa_enabled"] is False


@pytest.mark.parametrize("dead", ["revoked", "expired"])
def test_a_dead_links_page_uses_up_no_recovery_code_and_turns_nothing_off(api, dead):
    from urllib.parse import urlencode

    from chalicelib import container

    owner, account = api.user_with_account(unique_email("owner"))
    email, token, _, codes = with_app(api, "invitee")
    invited = api.post(f"/accounts/{account}/invitations", {"email": email, "role": "collaborator"}, token=owner)
    link = token_from(api.last_link(email, "/i/"))
    if dead == "revoked":
        assert api.delete(f"/accounts/{account}/invitations/{invited.json['invitation_id']}",
                          token=owner).status_code == 204
    else:
        container.clock.advance(40 * 24 * 3600)

    page = api.post(f"/i/{link}/signin/recovery", raw=urlencode({"password": PASSWORD, "recovery_code": codes[0]}),
                    headers=FORM)

    assert page.status_code == 410
    user = api.get("/me", token=token).json["user"]
    assert (user["mfa_enabled"], user["recovery_codes_left"]) == (True, 10)
    assert "mfa.disabled" not in [e["action"] for e in my_actions(api, token)]


def test_replacing_an_app_that_is_on_asks_for_the_password_again(api):
    """A stolen access token alone cannot swap the app (and so take its recovery codes) from its owner."""
    email, _, secret, codes = with_app(api)
    token = api.login_with_totp(email, secret)["access_token"]  # a session the user pool has not signed out

    assert_error(api.post("/me/mfa/totp", token=token), 400, "validation_error")
    assert_error(api.post("/me/mfa/totp", {"password": "what a thief would guess"}, token=token), 401,
                 "invalid_credentials")
    user = api.get("/me", token=token).json["user"]
    assert (user["mfa_enabled"], user["recovery_codes_left"]) == (True, 10)

    started = api.post("/me/mfa/totp", {"password": PASSWORD}, token=token)

    assert started.status_code == 200 and started.json["secret"]
    assert recover(api, email, codes[0]).status_code == 200  # nothing was replaced until the new app is confirmed


def test_new_recovery_codes_reach_the_firms_audit_as_the_app_changes_do(api):
    admin = api.signup_verified(unique_email("firm-admin"))
    partner_id = api.post("/partners", {"name": "Audited & Co"}, token=admin).json["partner_id"]
    api.enrol_totp(admin)

    assert api.post("/me/mfa/recovery-codes", {"password": PASSWORD}, token=admin).status_code == 200

    actions = [e["action"] for e in api.get(f"/partners/{partner_id}/audit", token=admin).json["items"]]
    assert actions[:2] == ["mfa.recovery_codes_renewed", "mfa.enabled"]
