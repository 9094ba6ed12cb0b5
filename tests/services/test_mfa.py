"""Authenticator apps as use cases, against the table on moto and a fake user pool that gives each user their own
code and refuses every other one (moto's pool shares one secret between all users)."""
from __future__ import annotations

import pytest

from chalicelib.domain import permissions
from chalicelib.domain.errors import (Forbidden, InvalidMfaCode, InvalidState, MfaRequired, MfaSessionExpired,
                                      RateLimited)
from chalicelib.domain.permissions import MFA_TOTP, PARTNER_COLUMNS
from chalicelib.services import identity, mfa, partners
from chalicelib.services.ports import SignInTokens
from tests.services.support import (access_token, add_staff, audit_actions, client_account, enrol, on_account,
                                    on_partner, person, signed_in, user_of)


def password_of(deps, principal) -> str:
    return deps.identity.users[principal.user_id].password


def email_of(deps, principal) -> str:
    return user_of(deps, principal).email


def a_wrong_code(deps, principal) -> str:
    return next(c for c in ("000000", "111111") if c != deps.identity.code_for(principal.user_id))


def held_sign_in(deps, principal) -> mfa.PendingSignIn:
    pending = identity.login(deps, email_of(deps, principal), password_of(deps, principal), "198.51.100.7")
    assert isinstance(pending, mfa.PendingSignIn)
    return pending


# adding and removing -----------------------------------------------------------------------------------------

def test_a_wrong_first_code_leaves_the_app_off(deps):
    ada = person(deps, "ada")
    token = access_token(deps, ada)
    mfa.start(deps, signed_in(deps, ada), token)

    with pytest.raises(InvalidMfaCode):
        mfa.confirm(deps, signed_in(deps, ada), token, a_wrong_code(deps, ada))

    assert user_of(deps, ada).mfa_enabled is False
    assert deps.identity.users[ada.user_id].totp_on is False
    assert isinstance(identity.login(deps, email_of(deps, ada), password_of(deps, ada), None), SignInTokens)


def test_the_right_first_code_turns_the_app_on_in_the_pool_and_the_profile_and_is_audited(deps):
    ada = person(deps, "ada")
    enrol(deps, ada)

    user = user_of(deps, ada)
    assert (user.mfa_enabled, user.totp_pending) == (True, False)
    assert deps.identity.users[ada.user_id].totp_on is True
    assert audit_actions(deps, ada.user_id, "user") == ["mfa.enabled"]


def test_a_code_without_a_secret_handed_out_is_refused_before_the_pool_is_asked(deps):
    ada = person(deps, "ada")
    with pytest.raises(InvalidState):
        mfa.confirm(deps, signed_in(deps, ada), access_token(deps, ada), "123456")
    assert deps.identity.users[ada.user_id].totp_confirmed is False


def test_one_users_code_does_not_confirm_another_users_app(deps):
    ada, bob = person(deps, "ada"), person(deps, "bob")
    token = access_token(deps, ada)
    mfa.start(deps, signed_in(deps, ada), token)
    mfa.start(deps, signed_in(deps, bob), access_token(deps, bob))

    with pytest.raises(InvalidMfaCode):
        mfa.confirm(deps, signed_in(deps, ada), token, deps.identity.code_for(bob.user_id))


def test_turning_off_is_audited_and_the_next_sign_in_needs_the_password_only(deps):
    ada = person(deps, "ada", totp=True)

    mfa.turn_off(deps, signed_in(deps, ada))

    assert user_of(deps, ada).mfa_enabled is False
    assert audit_actions(deps, ada.user_id, "user") == ["mfa.disabled", "mfa.enabled"]
    assert isinstance(identity.login(deps, email_of(deps, ada), password_of(deps, ada), None), SignInTokens)


@pytest.mark.parametrize("role", PARTNER_COLUMNS)
def test_a_partner_role_that_requires_the_app_keeps_it_on(deps, role):
    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    holder = person(deps, "sven", totp=True)
    add_staff(deps, partner, holder, role)

    if permissions.partner_role_requires(role, MFA_TOTP):
        with pytest.raises(MfaRequired):
            mfa.turn_off(deps, signed_in(deps, holder))
        assert user_of(deps, holder).mfa_enabled is True
        assert deps.identity.users[holder.user_id].totp_on is True
    else:
        mfa.turn_off(deps, signed_in(deps, holder))
        assert user_of(deps, holder).mfa_enabled is False


def test_a_staff_members_change_is_in_the_log_of_every_firm_they_work_for(deps):
    firms = []
    for name in ("One", "Two"):
        admin = person(deps, "petra", totp=True)
        firms.append(partners.create(deps, signed_in(deps, admin), f"Firm {name}")[0])
    sven = person(deps, "sven")
    for firm in firms:
        add_staff(deps, firm, sven, "staff")

    enrol(deps, sven)

    for firm in firms:
        events = deps.store.audit.list("partner", firm.partner_id, 10, None).items
        assert (events[0].action, events[0].target_type, events[0].target_id) == ("mfa.enabled", "user", sven.user_id)


# the sign-in that waits for a code ----------------------------------------------------------------------------

def test_the_right_code_finishes_the_sign_in_and_the_session_works_once(deps):
    ada = person(deps, "ada", totp=True)
    pending = held_sign_in(deps, ada)
    assert pending.expires_in == deps.settings.totp_sign_in_minutes * 60

    tokens = identity.login_totp(deps, pending.session, deps.identity.code_for(ada.user_id), None)

    assert deps.identity.access_tokens[tokens.access_token] == ada.user_id
    assert user_of(deps, ada).last_login_at == deps.clock.now()
    with pytest.raises(MfaSessionExpired):
        identity.login_totp(deps, pending.session, deps.identity.code_for(ada.user_id), None)


def test_a_session_cannot_be_finished_with_another_users_code(deps):
    ada, bob = person(deps, "ada", totp=True), person(deps, "bob", totp=True)
    pending = held_sign_in(deps, ada)

    with pytest.raises(InvalidMfaCode):
        identity.login_totp(deps, pending.session, deps.identity.code_for(bob.user_id), None)
    tokens = identity.login_totp(deps, pending.session, deps.identity.code_for(ada.user_id), None)
    assert deps.identity.access_tokens[tokens.access_token] == ada.user_id  # never Bob's


def test_only_the_hash_of_the_session_is_stored(deps):
    from tests.fakes import table_items

    ada = person(deps, "ada", totp=True)
    pending = held_sign_in(deps, ada)

    assert not [item for item in table_items() if pending.session in str(item)]


def test_a_held_sign_in_expires_after_the_user_pools_session_would(deps):
    ada = person(deps, "ada", totp=True)
    pending = held_sign_in(deps, ada)

    deps.clock.advance(deps.settings.totp_sign_in_minutes * 60)

    with pytest.raises(MfaSessionExpired):
        identity.login_totp(deps, pending.session, deps.identity.code_for(ada.user_id), None)


def test_wrong_codes_use_up_the_login_limit_of_the_address_and_source_and_a_right_one_gives_its_count_back(deps):
    ada, eve_ip = person(deps, "ada", totp=True), "203.0.113.66"
    right, wrong = deps.identity.code_for(ada.user_id), a_wrong_code(deps, ada)
    pending = identity.login(deps, email_of(deps, ada), password_of(deps, ada), eve_ip)
    identity.login_totp(deps, pending.session, right, eve_ip)  # counted, then given back
    pending = identity.login(deps, email_of(deps, ada), password_of(deps, ada), eve_ip)
    for _ in range(deps.settings.login_failures_per_email):
        with pytest.raises(InvalidMfaCode):
            identity.login_totp(deps, pending.session, wrong, eve_ip)

    with pytest.raises(RateLimited):
        identity.login_totp(deps, pending.session, right, eve_ip)
    with pytest.raises(RateLimited):  # the same counter as the password's
        identity.login(deps, email_of(deps, ada), password_of(deps, ada), eve_ip)
    # another source is not locked out by these guesses (a little later: the right code signed in once already)
    deps.clock.advance(mfa.USED_CODE_MINUTES * 60 + 1)
    other = identity.login(deps, email_of(deps, ada), password_of(deps, ada), "198.51.100.7")
    assert identity.login_totp(deps, other.session, right, "198.51.100.7").access_token


def test_a_code_that_signed_in_once_signs_in_nobody_again_until_it_could_not_be_accepted_anyway(deps):
    ada = person(deps, "ada", totp=True)
    right = deps.identity.code_for(ada.user_id)
    first, second = held_sign_in(deps, ada), held_sign_in(deps, ada)
    assert identity.login_totp(deps, first.session, right, None).access_token

    with pytest.raises(InvalidMfaCode, match="used already"):
        identity.login_totp(deps, second.session, right, None)

    deps.clock.advance(mfa.USED_CODE_MINUTES * 60 + 1)  # the same six digits, minutes later, are a new code
    assert identity.login_totp(deps, held_sign_in(deps, ada).session, right, None).access_token


def test_an_app_added_in_the_pool_directly_is_learnt_at_the_sign_in_that_asks_for_it(deps):
    ada = person(deps, "ada")
    pool_user = deps.identity.users[ada.user_id]
    pool_user.totp_secret, pool_user.totp_confirmed, pool_user.totp_on = "ADDEDELSEWHERE", True, True

    pending = held_sign_in(deps, ada)
    identity.login_totp(deps, pending.session, deps.identity.code_for(ada.user_id), None)

    assert user_of(deps, ada).mfa_enabled is True
    assert audit_actions(deps, ada.user_id, "user") == ["mfa.enabled"]


# partner staff --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", PARTNER_COLUMNS)
def test_a_partner_role_that_requires_the_app_refuses_its_holder_without_one_on_the_firm_and_its_clients(deps, role):
    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    holder = person(deps, "sven")
    add_staff(deps, partner, holder, role)
    client = client_account(deps, partner.partner_id, person(deps, "cleo"), assigned=[holder.user_id])
    required = permissions.partner_role_requires(role, MFA_TOTP)

    for check in (lambda: on_partner(deps, holder, partner.partner_id, "partner.view"),
                  lambda: on_account(deps, holder, client.account_id, "account.view")):
        if required:
            with pytest.raises(MfaRequired):
                check()
        else:
            check()
    if required:
        denied = deps.store.audit.list("partner", partner.partner_id, 1, None).items[0]
        assert (denied.action, denied.details["reason"]) == ("access.denied", "mfa_required")

    enrol(deps, holder)  # the enrolment itself is open to them
    assert on_partner(deps, holder, partner.partner_id, "partner.view").staff.role == role
    assert on_account(deps, holder, client.account_id, "account.view").acting_for == partner.partner_id


def test_the_app_is_checked_before_the_permission_and_a_refusal_names_it(deps):
    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    sven = person(deps, "sven")
    add_staff(deps, partner, sven, "staff")

    with pytest.raises(MfaRequired) as refused:
        on_partner(deps, sven, partner.partner_id, "staff.manage")  # not a staff permission either
    assert refused.value.code == "mfa_required" and isinstance(refused.value, Forbidden)
    enrol(deps, sven)
    with pytest.raises(Forbidden) as refused:
        on_partner(deps, sven, partner.partner_id, "staff.manage")
    assert refused.value.code == "forbidden"


def test_a_staff_member_who_is_also_a_member_of_an_account_reaches_it_without_the_app(deps):
    from tests.services.support import join

    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    sven = person(deps, "sven")
    add_staff(deps, partner, sven, "staff")
    client = client_account(deps, partner.partner_id, person(deps, "cleo"), assigned=[sven.user_id])
    join(deps, client.account_id, sven, "guest")  # his own membership, not the firm's access

    assert on_account(deps, sven, client.account_id).membership.role == "guest"
