"""Sign-up to sign-out through the API, as a client would use it."""
from __future__ import annotations

from tests.api.support import unique_email
from tests.conftest import BASE_URL, token_from


def test_signup_mails_a_verification_link_built_from_the_public_base_url(api):
    # WHEN someone signs up
    r = api.post("/auth/signup", {"email": "  Ada@Example.com ", "password": "correct horse",
                                  "first_name": "Ada", "last_name": "Lovelace"})
    # THEN the reply says a link was sent, and the normalised address got it
    assert r.status_code == 202 and r.json == {"status": "verification_sent"}
    mails = api.mails_to("ada@example.com")
    assert len(mails) == 1
    assert mails[0]["links"][0].startswith(BASE_URL + "/verify/")
    assert "Ada" in mails[0]["text"] and mails[0]["links"][0] in mails[0]["text"]
    assert mails[0]["links"][0] in mails[0]["html"]


def test_login_before_verification_is_refused_with_email_not_verified(api):
    api.post("/auth/signup", {"email": "a@example.com", "password": "correct horse", "first_name": "A", "last_name": "B"})
    r = api.post("/auth/login", {"email": "a@example.com", "password": "correct horse"})
    assert r.status_code == 403 and r.json["error"]["code"] == "email_not_verified"


def test_a_wrong_password_before_verification_does_not_reveal_the_account(api):
    api.post("/auth/signup", {"email": "a@example.com", "password": "correct horse", "first_name": "A", "last_name": "B"})
    r = api.post("/auth/login", {"email": "a@example.com", "password": "wrong password"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials"


def test_signup_answers_the_same_for_a_taken_email_and_keeps_the_first_password(api):
    api.signup_verified("ada@example.com", password="first password")
    again = api.post("/auth/signup", {"email": "ADA@example.com", "password": "second password",
                                      "first_name": "Eve", "last_name": "Mallory"})
    assert again.status_code == 202 and again.json == {"status": "verification_sent"}
    assert api.post("/auth/login", {"email": "ada@example.com", "password": "second password"}).status_code == 401
    assert api.post("/auth/login", {"email": "ada@example.com", "password": "first password"}).status_code == 200
    # the real owner is told, with a way to reset the password instead
    assert api.mails_to("ada@example.com")[0]["subject"] == "You already have a Latchkey account"


def test_verification_link_works_once(api):
    api.post("/auth/signup", {"email": "a@example.com", "password": "correct horse", "first_name": "A", "last_name": "B"})
    token = token_from(api.last_link("a@example.com", "/verify/"))
    assert api.post("/auth/verify-email", {"token": token}).status_code == 200
    again = api.post("/auth/verify-email", {"token": token})
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"


def test_login_records_the_login_time_shown_by_me(api):
    token = api.signup_verified("ada@example.com")
    me = api.get("/me", token=token)
    assert me.status_code == 200
    assert me.json["user"]["email"] == "ada@example.com"
    assert me.json["user"]["last_login_at"].endswith("Z")
    assert me.json["accounts"] == [] and me.json["pending_invitations"] == [] and me.json["partners"] == []


def test_refresh_gives_a_working_access_token_and_logout_kills_the_refresh_token(api):
    api.signup_verified("ada@example.com")
    tokens = api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}).json
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    refreshed = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert api.get("/me", token=refreshed.json["access_token"]).status_code == 200
    assert api.post("/auth/logout", token=tokens["access_token"]).status_code == 204
    after = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert after.status_code == 401 and after.json["error"]["code"] == "unauthenticated"


def test_forgot_password_answers_the_same_for_unknown_emails_and_mails_only_real_users(api):
    api.signup_verified("ada@example.com")
    known = api.post("/auth/password/forgot", {"email": "ada@example.com"})
    unknown = api.post("/auth/password/forgot", {"email": "nobody@example.com"})
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json) == (202, {"status": "reset_sent"})
    assert api.mails_to("nobody@example.com") == []
    token = token_from(api.last_link("ada@example.com", "/reset/"))
    assert api.post("/auth/password/reset", {"token": token, "password": "a brand new one"}).status_code == 200
    assert api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}).status_code == 401
    assert api.post("/auth/login", {"email": "ada@example.com", "password": "a brand new one"}).status_code == 200
    # the reset link is single use
    assert api.post("/auth/password/reset", {"token": token, "password": "yet another one"}).status_code == 404


def test_password_reset_ends_existing_sessions(api):
    api.signup_verified("ada@example.com")
    tokens = api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}).json
    api.post("/auth/password/forgot", {"email": "ada@example.com"})
    token = token_from(api.last_link("ada@example.com", "/reset/"))
    api.post("/auth/password/reset", {"token": token, "password": "a brand new one"})
    assert api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_me_without_or_with_a_forged_token_is_401(api):
    assert api.get("/me").status_code == 401
    assert api.get("/me", token="not-a-jwt").json["error"]["code"] == "unauthenticated"
    assert api.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_logout_ends_access_tokens_already_issued_on_every_route(api):
    # GIVEN a signed-in owner with an account, and a second session of the same user
    import time

    token, account_id = api.user_with_account("ada@example.com")
    # tokens carry whole seconds: the sign-out must come in a later second than the tokens it ends
    time.sleep(1.05)
    # WHEN they sign out everywhere
    assert api.post("/auth/logout", token=token).status_code == 204
    # THEN the old access token is refused on identity, account and invitation routes alike
    for method, path in [("GET", "/me"), ("GET", f"/accounts/{account_id}"), ("POST", "/accounts"),
                         ("GET", f"/accounts/{account_id}/members"), ("GET", f"/accounts/{account_id}/audit")]:
        r = api.call(method, path, body={"name": "x", "type": "personal"} if method == "POST" else None, token=token)
        assert r.status_code == 401, (method, path, r.json)
    # and a new sign-in works at once
    fresh = api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}).json
    assert api.get(f"/accounts/{account_id}", token=fresh["access_token"]).status_code == 200


def test_repeated_failed_logins_are_429_with_retry_after_even_with_the_right_password(api):
    api.signup_verified("ada@example.com")
    codes = [api.post("/auth/login", {"email": "ada@example.com", "password": f"guess {n}"}).status_code
             for n in range(10)]
    assert codes == [401] * 10
    blocked = api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"})
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "rate_limited"
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # another address from the same source is not locked out by these failures
    api.signup_verified("grace@example.com")
    # after the window the right password works again
    api.post("/_dev/clock", {"advance_seconds": 15 * 60})
    assert api.post("/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}).status_code == 200


def test_a_token_used_after_sign_out_in_the_same_second_is_refused_every_time(api):
    # tokens carry whole seconds: log in, log out and use the token as fast as possible, eight times over
    api.signup_verified("quick@example.com")
    for attempt in range(8):
        tokens = api.post("/auth/login", {"email": "quick@example.com", "password": "correct horse battery"})
        assert tokens.status_code == 200, tokens.json  # a sign-in right after a sign-out is never refused
        access = tokens.json["access_token"]
        assert api.post("/auth/logout", token=access).status_code == 204
        assert api.get("/me", token=access).status_code == 401, attempt


def test_an_attacker_refreshing_a_stolen_refresh_token_keeps_nothing_after_the_sign_out(api):
    api.signup_verified("stolen@example.com")
    victim = api.post("/auth/login", {"email": "stolen@example.com", "password": "correct horse battery"}).json
    stolen = victim["refresh_token"]
    harvested = []
    for _ in range(25):  # the attacker refreshes in a loop, up to the moment the victim signs out
        harvested.append(api.post("/auth/refresh", {"refresh_token": stolen}).json["access_token"])
    assert api.post("/auth/logout", token=victim["access_token"]).status_code == 204
    assert api.post("/auth/refresh", {"refresh_token": stolen}).status_code == 401
    assert [t for t in harvested if api.get("/me", token=t).status_code != 401] == []


def test_an_invitation_link_wins_over_a_strangers_unconfirmed_signup(api):
    # GIVEN a stranger who signed up with the victim's address and their own password, never verified
    api.post("/auth/signup", {"email": "victim@example.com", "password": "the stranger's password",
                              "first_name": "Mal", "last_name": "Lory"})
    strangers_link = token_from(api.last_link("victim@example.com", "/verify/"))
    # AND an owner who invites the victim
    owner, account_id = api.user_with_account("inviter@example.com")
    assert api.post(f"/accounts/{account_id}/invitations", {"email": "victim@example.com", "role": "collaborator"},
                    token=owner).status_code == 201
    link = token_from(api.last_link("victim@example.com", "/i/"))
    # WHEN the victim activates from the invitation link (it proves the mailbox)
    assert api.get(f"/invitations/{link}").json["existing_user"] is False
    r = api.post(f"/invitations/{link}/activate", {"password": "the victim's password"})
    # THEN it works, and the address is the victim's: their password signs in, the stranger's does not
    assert r.status_code == 201, r.json
    assert api.post("/auth/login", {"email": "victim@example.com", "password": "the victim's password"}).status_code == 200
    stranger = api.post("/auth/login", {"email": "victim@example.com", "password": "the stranger's password"})
    assert stranger.status_code == 401
    # AND the stranger's verification link confirms nothing
    assert api.post("/auth/verify-email", {"token": strangers_link}).status_code == 404
    assert api.post("/auth/login", {"email": "victim@example.com", "password": "the stranger's password"}).status_code == 401


def test_an_internationalised_domain_is_one_user_however_it_is_spelt(api):
    tag = unique_email("idn").split("@")[0]
    token = api.signup_verified(f"{tag}@Bücher.example")
    login = api.post("/auth/login", {"email": f"{tag}@xn--bcher-kva.example", "password": "correct horse battery"})
    assert login.status_code == 200, login.json
    me = api.get("/me", token=login.json["access_token"]).json["user"]
    assert me["user_id"] == api.get("/me", token=token).json["user"]["user_id"]
    assert me["email"] == f"{tag}@xn--bcher-kva.example"
    quoted = api.post("/auth/signup", {"email": f'"{tag}"@xn--bcher-kva.example', "password": "correct horse battery",
                                       "first_name": "Q", "last_name": "Q"})
    assert quoted.status_code == 400 and quoted.json["error"]["code"] == "validation_error"
