"""Sign-up, verification, login, rate limits and password reset, on the table (moto) with a fake user pool."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import (EmailNotVerified, InvalidCredentials, NotFound, RateLimited, Unauthenticated,
                                      ValidationFailed)
from chalicelib.domain.emails import normalize_email
from chalicelib.services import identity
from tests.fakes import BASE_URL, make_deps, moto_table, table_items

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
def deps():
    # A table of its own per test: these tests use one address over and over.
    with moto_table():
        yield make_deps()


def user_ids() -> list[str]:
    return [i["user_id"]["S"] for i in table_items("user")]


def signup(deps, email=EMAIL, password=PASSWORD, first="Ada", last="Lovelace"):
    identity.signup(deps, email, password, first, last)


def verified_user(deps, email=EMAIL, password=PASSWORD) -> str:
    signup(deps, email, password)
    identity.verify_email(deps, deps.mailer.last_token(normalize_email(email), "/verify/"))
    return deps.store.users.id_for_email(normalize_email(email))


def the_user(deps, email=EMAIL):
    return deps.store.users.get(deps.store.users.id_for_email(email))


# sign-up ---------------------------------------------------------------------------------------

def attempts() -> list[dict]:
    return table_items("signup")


def test_signup_keeps_an_unconfirmed_attempt_that_owns_no_address_yet(deps):
    signup(deps, email="  Ada@Example.COM ")

    # nobody owns the address until the link is followed: no profile, no email sentinel
    assert user_ids() == [] and deps.store.users.id_for_email(EMAIL) is None
    [attempt] = attempts()
    assert (attempt["email"]["S"], attempt["first_name"]["S"]) == (EMAIL, "Ada")
    pooled = deps.identity.users[attempt["attempt_id"]["S"]]
    assert (pooled.email, pooled.password, pooled.email_verified) == (EMAIL, PASSWORD, False)


def test_verifying_makes_the_attempt_the_user_under_the_normalised_email(deps):
    user_id = verified_user(deps, email="  Ada@Example.COM ")

    assert user_ids() == [user_id] and attempts() == []
    user = the_user(deps)
    assert (user.email, user.first_name, user.last_name, user.email_verified) == (EMAIL, "Ada", "Lovelace", True)


def test_signup_mails_one_verification_link_built_from_the_public_base_url(deps):
    signup(deps)

    assert len(deps.mailer.sent) == 1
    message = deps.mailer.sent[0]
    assert message.to == [EMAIL]
    assert message.subject == "Confirm your email address for Latchkey"
    [link] = message.links
    assert link == f"{BASE_URL}/verify/{deps.secrets.issued[-1]}"
    assert link in message.text and link in message.html


def test_signup_for_a_verified_email_changes_nothing_and_tells_the_owner(deps):
    user_id = verified_user(deps, password="first password")
    deps.mailer.sent.clear()

    signup(deps, email="ADA@example.com", password="second password", first="Eve", last="Mallory")

    assert user_ids() == [user_id] and attempts() == []
    assert the_user(deps).first_name == "Ada"
    assert deps.identity.users[user_id].password == "first password"
    assert list(deps.identity.users) == [user_id]  # the attempt's password is gone from the pool
    [message] = deps.mailer.sent
    assert message.to == [EMAIL] and message.subject == "You already have a Latchkey account"
    assert message.links[0].startswith(BASE_URL + "/reset/")


def test_an_early_signup_by_a_stranger_cannot_take_over_the_address(deps):
    # GIVEN a stranger signs up first with the victim's address and their own password, and never verifies
    signup(deps, password="the stranger's password", first="Mal")
    strangers_link = deps.mailer.last_token(EMAIL, "/verify/")
    # WHEN the victim signs up themselves and follows the newest link
    signup(deps, password="the victim's password", first="Ada")
    identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/verify/"))
    # THEN the victim's password is the one that works, and the stranger's does not
    identity.login(deps, EMAIL, "the victim's password", "198.51.100.7")
    with pytest.raises(InvalidCredentials):
        identity.login(deps, EMAIL, "the stranger's password", "203.0.113.66")
    assert the_user(deps).first_name == "Ada" and len(deps.identity.users) == 1
    # AND the stranger's older link confirms nothing any more
    with pytest.raises(NotFound):
        identity.verify_email(deps, strangers_link)


def test_an_older_verification_link_is_void_once_a_newer_signup_exists(deps):
    signup(deps, password="first password")
    first_link = deps.mailer.last_token(EMAIL, "/verify/")

    signup(deps, password="second password")

    with pytest.raises(NotFound):
        identity.verify_email(deps, first_link)
    assert user_ids() == []
    identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/verify/"))
    identity.login(deps, EMAIL, "second password", "198.51.100.7")


def test_a_password_the_pool_refuses_leaves_no_attempt(deps):
    with pytest.raises(ValidationFailed):
        signup(deps, password="short")

    assert user_ids() == [] and attempts() == [] and deps.store.users.id_for_email(EMAIL) is None
    assert deps.identity.users == {} and deps.mailer.sent == []
    signup(deps)  # the same email can sign up again
    assert len(attempts()) == 1


def test_an_identity_outage_during_signup_leaves_no_attempt(deps):
    deps.identity.fail_next_create = RuntimeError("user pool unavailable")

    with pytest.raises(RuntimeError):
        signup(deps)

    assert user_ids() == [] and attempts() == [] and deps.mailer.sent == []


# email verification ----------------------------------------------------------------------------

def test_the_verification_link_marks_the_email_verified_in_the_store_and_the_pool(deps):
    signup(deps)
    identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/verify/"))

    user = the_user(deps)
    assert user.email_verified and deps.identity.users[user.user_id].email_verified


def test_the_verification_link_works_once(deps):
    signup(deps)
    token = deps.mailer.last_token(EMAIL, "/verify/")
    identity.verify_email(deps, token)

    with pytest.raises(NotFound):
        identity.verify_email(deps, token)


def test_the_verification_link_still_works_just_before_it_expires(deps):
    signup(deps)
    deps.clock.advance(deps.settings.verify_link_hours * 3600 - 1)

    identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/verify/"))

    assert the_user(deps).email_verified


def test_an_expired_verification_link_is_refused(deps):
    signup(deps)
    deps.clock.advance(deps.settings.verify_link_hours * 3600 + 1)

    with pytest.raises(NotFound):
        identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/verify/"))
    assert deps.store.users.id_for_email(EMAIL) is None


def test_a_reset_link_is_not_a_verification_link(deps):
    verified_user(deps)
    signup(deps, email="grace@example.com")
    identity.forgot_password(deps, EMAIL)

    with pytest.raises(NotFound):
        identity.verify_email(deps, deps.mailer.last_token(EMAIL, "/reset/"))
    assert deps.store.users.id_for_email("grace@example.com") is None


def test_an_unknown_verification_token_is_refused(deps):
    with pytest.raises(NotFound):
        identity.verify_email(deps, "not-a-token")


# login -----------------------------------------------------------------------------------------

def test_login_with_an_unknown_email_is_invalid_credentials(deps):
    with pytest.raises(InvalidCredentials):
        identity.login(deps, "nobody@example.com", PASSWORD, "198.51.100.7")


def test_login_with_a_wrong_password_is_invalid_credentials(deps):
    verified_user(deps)
    with pytest.raises(InvalidCredentials):
        identity.login(deps, EMAIL, "wrong password", "198.51.100.7")


def test_login_before_verification_is_email_not_verified(deps):
    signup(deps)
    with pytest.raises(EmailNotVerified):
        identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")


def test_a_wrong_password_before_verification_does_not_reveal_the_account(deps):
    signup(deps)
    with pytest.raises(InvalidCredentials):
        identity.login(deps, EMAIL, "wrong password", "198.51.100.7")


def test_login_returns_tokens_and_records_the_login_time(deps):
    user_id = verified_user(deps)
    deps.clock.advance(120)

    tokens = identity.login(deps, "  ADA@example.com", PASSWORD, "198.51.100.7")

    assert deps.identity.refresh_tokens[tokens.refresh_token] == user_id
    assert deps.store.users.get(user_id).last_login_at == deps.clock.now()


def test_refresh_works_until_logout_ends_every_session(deps):
    from chalicelib.services.principal import Principal

    user_id = verified_user(deps)
    phone = identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    laptop = identity.login(deps, EMAIL, PASSWORD, "198.51.100.8")
    assert identity.refresh(deps, phone.refresh_token).access_token

    identity.logout(deps, Principal(user_id))

    for session in (phone, laptop):
        with pytest.raises(Unauthenticated):
            identity.refresh(deps, session.refresh_token)


# rate limits -----------------------------------------------------------------------------------

def fail_logins(deps, times, email=EMAIL, source="198.51.100.7"):
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            identity.login(deps, email, "wrong password", source)


def test_too_many_failures_for_one_email_from_one_source_block_that_source_even_with_the_right_password(deps):
    verified_user(deps)
    fail_logins(deps, deps.settings.login_failures_per_email, source="203.0.113.66")

    with pytest.raises(RateLimited) as blocked:
        identity.login(deps, EMAIL, PASSWORD, "203.0.113.66")
    assert 0 < blocked.value.retry_after <= 15 * 60


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out(deps):
    # GIVEN a stranger who used up every guess for the owner's address from their own source
    user_id = verified_user(deps)
    fail_logins(deps, deps.settings.login_failures_per_email, source="203.0.113.66")
    # WHEN the owner signs in from theirs
    identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    # THEN it works: the lockout is no free denial of service
    assert deps.store.users.get(user_id).last_login_at == deps.clock.now()


def test_many_sources_guessing_one_address_hit_a_ceiling_for_that_address(deps):
    from dataclasses import replace

    deps.settings = replace(deps.settings, login_failures_per_email_everywhere=6)
    verified_user(deps)
    for n in range(6):
        fail_logins(deps, 1, source=f"203.0.113.{n}")
    with pytest.raises(RateLimited):
        identity.login(deps, EMAIL, "wrong password", "203.0.113.99")


def test_a_right_password_gives_its_count_back(deps):
    verified_user(deps)
    for _ in range(deps.settings.login_failures_per_email + 5):  # more sign-ins than the failure limit
        identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")


def test_the_email_block_lifts_when_the_window_has_passed(deps):
    user_id = verified_user(deps)
    fail_logins(deps, deps.settings.login_failures_per_email)
    with pytest.raises(RateLimited) as blocked:
        identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")

    deps.clock.advance(blocked.value.retry_after)

    identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    assert deps.store.users.get(user_id).last_login_at == deps.clock.now()


def test_the_failures_below_the_limit_do_not_block(deps):
    verified_user(deps)
    fail_logins(deps, deps.settings.login_failures_per_email - 1)

    identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")


def test_too_many_failures_from_one_source_block_that_source_for_every_email(deps):
    verified_user(deps)
    for n in range(deps.settings.login_failures_per_source):
        fail_logins(deps, 1, email=f"guess{n}@example.com", source="192.0.2.66")

    with pytest.raises(RateLimited):
        identity.login(deps, EMAIL, PASSWORD, "192.0.2.66")
    identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")  # other sources are not affected


def test_mails_to_one_address_are_capped_quietly_and_resume_an_hour_later(deps):
    cap = deps.settings.mails_per_email_per_hour
    verified_user(deps)  # the verification mail counts

    for _ in range(cap + 3):
        identity.forgot_password(deps, EMAIL)  # never raises: the reply must not differ

    assert len(deps.mailer.to(EMAIL)) == cap
    deps.clock.advance(3600)
    identity.forgot_password(deps, EMAIL)
    assert len(deps.mailer.to(EMAIL)) == cap + 1


def test_repeated_signups_for_a_taken_email_are_capped_too(deps):
    cap = deps.settings.mails_per_email_per_hour
    for _ in range(cap + 3):
        signup(deps)

    assert len(deps.mailer.to(EMAIL)) == cap and len(attempts()) == 1


# password reset --------------------------------------------------------------------------------

def test_forgot_password_for_an_unknown_email_mails_nothing(deps):
    identity.forgot_password(deps, "nobody@example.com")
    assert deps.mailer.sent == []


def test_reset_password_sets_the_password_and_ends_every_session(deps):
    verified_user(deps)
    session = identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    identity.forgot_password(deps, " Ada@Example.com")

    identity.reset_password(deps, deps.mailer.last_token(EMAIL, "/reset/"), "a brand new password")

    with pytest.raises(Unauthenticated):
        identity.refresh(deps, session.refresh_token)
    with pytest.raises(InvalidCredentials):
        identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    identity.login(deps, EMAIL, "a brand new password", "198.51.100.7")


def test_the_reset_link_works_once(deps):
    verified_user(deps)
    identity.forgot_password(deps, EMAIL)
    token = deps.mailer.last_token(EMAIL, "/reset/")
    identity.reset_password(deps, token, "a brand new password")

    with pytest.raises(NotFound):
        identity.reset_password(deps, token, "yet another password")
    identity.login(deps, EMAIL, "a brand new password", "198.51.100.7")


def test_an_unconfirmed_signup_gets_no_reset_link(deps):
    signup(deps)
    deps.mailer.sent.clear()

    identity.forgot_password(deps, EMAIL)

    assert deps.mailer.sent == []


def test_a_successful_reset_voids_every_other_reset_link_and_every_session(deps):
    # GIVEN two reset links mailed to the owner, and a signed-in session
    verified_user(deps)
    session = identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")
    identity.forgot_password(deps, EMAIL)
    older = deps.mailer.last_token(EMAIL, "/reset/")
    identity.forgot_password(deps, EMAIL)
    newer = deps.mailer.last_token(EMAIL, "/reset/")
    # WHEN the newer one is used
    identity.reset_password(deps, newer, "a brand new password")
    # THEN the older one no longer sets a password, and the old session is over
    with pytest.raises(NotFound):
        identity.reset_password(deps, older, "the attacker's password")
    with pytest.raises(Unauthenticated):
        identity.refresh(deps, session.refresh_token)
    identity.login(deps, EMAIL, "a brand new password", "198.51.100.7")


def test_an_expired_reset_link_is_refused_and_the_password_stays(deps):
    verified_user(deps)
    identity.forgot_password(deps, EMAIL)
    deps.clock.advance(timedelta(minutes=deps.settings.reset_link_minutes).total_seconds())

    with pytest.raises(NotFound):
        identity.reset_password(deps, deps.mailer.last_token(EMAIL, "/reset/"), "a brand new password")
    identity.login(deps, EMAIL, PASSWORD, "198.51.100.7")


def test_the_account_exists_mail_carries_a_working_reset_link(deps):
    verified_user(deps)
    signup(deps, password="someone else's guess")

    identity.reset_password(deps, deps.mailer.last_token(EMAIL, "/reset/"), "a brand new password")

    identity.login(deps, EMAIL, "a brand new password", "198.51.100.7")


def test_a_password_the_pool_refuses_leaves_the_reset_link_usable(deps):
    verified_user(deps)
    identity.forgot_password(deps, EMAIL)
    token = deps.mailer.last_token(EMAIL, "/reset/")

    with pytest.raises(ValidationFailed):
        identity.reset_password(deps, token, "short")

    identity.reset_password(deps, token, "a brand new password")
    identity.login(deps, EMAIL, "a brand new password", "198.51.100.7")
