"""Accounts, and the authorization every request goes through: account, partner and reviewer scopes."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from chalicelib.domain import scopes
from chalicelib.domain.accounts import ANY_UPDATE_PERMISSIONS
from chalicelib.domain.errors import Conflict, Forbidden, InvalidState, NotFound, Unauthenticated, ValidationFailed
from chalicelib.services import access, accounts, partners
from chalicelib.services.principal import Principal
from tests.services.support import (add_staff, audit_actions, client_account, join, on_account, on_partner, person,
                                    signed_in, user_of)


@pytest.fixture
def owner(deps):
    return person(deps, "olivia")


@pytest.fixture
def account(deps, owner):
    created, _ = accounts.create(deps, signed_in(deps, owner), "Household", "personal")
    return created


def update_ctx(deps, principal, account_id):
    return on_account(deps, principal, account_id, *ANY_UPDATE_PERMISSIONS)


# create ----------------------------------------------------------------------------------------

def test_create_makes_the_caller_the_one_owner(deps, owner):
    account, membership = accounts.create(deps, signed_in(deps, owner), "Household", "personal")

    stored = deps.store.accounts.get(account.account_id)
    assert (stored.name, stored.type, stored.status, stored.owner_ids) == ("Household", "personal", "active",
                                                                           [owner.user_id])
    mine = deps.store.accounts.get_member(account.account_id, owner.user_id)
    assert (mine.role, mine.status, mine.email) == ("owner", "active", user_of(deps, owner).email)
    assert membership == mine
    memberships, _, _ = deps.store.things_of_email(mine.email)
    assert [m.account_id for m in memberships] == [account.account_id]


def test_create_records_an_account_created_event_by_the_owner(deps, owner):
    account, _ = accounts.create(deps, signed_in(deps, owner), "Household", "personal")

    [event] = deps.store.audit.list("account", account.account_id, 10, None).items
    assert event.action == "account.created" and event.at == deps.clock.now()
    assert (event.actor.user_id, event.actor.email) == (owner.user_id, user_of(deps, owner).email)
    assert (event.target_type, event.target_id) == ("account", account.account_id)
    assert event.details == {"name": "Household", "type": "personal"}


def test_a_caller_whose_user_is_gone_is_unauthenticated(deps):
    # a valid token for a user deleted since: the caller must sign in again
    with pytest.raises(Unauthenticated):
        signed_in(deps, Principal("usr_ghost"))


def test_a_token_from_before_sign_out_everywhere_is_unauthenticated_on_every_scope(deps, owner, account):
    from chalicelib.services import sessions

    issued = int(time.time()) - 10  # sign-out is stamped in real time: tokens carry real issue times
    sessions.revoke(deps, owner.user_id)
    stale = replace(owner, issued_at=issued)
    for authorize in (lambda: signed_in(deps, stale), lambda: on_account(deps, stale, account.account_id)):
        with pytest.raises(Unauthenticated):
            authorize()


# update ----------------------------------------------------------------------------------------

def test_the_owner_updates_several_field_groups_at_once(deps, owner, account):
    updated = accounts.update(deps, update_ctx(deps, owner, account.account_id),
                              {"name": "Our household", "business_info": {"city": "Leeds"},
                               "account_info": {"plan": "pro"}})

    stored = deps.store.accounts.get(account.account_id)
    assert updated.version == stored.version == account.version + 1
    assert (stored.name, stored.business_info, stored.plan) == ("Our household", {"city": "Leeds"}, "pro")
    newest = deps.store.audit.list("account", account.account_id, 1, None).items[0]
    assert newest.action == "account.updated"
    assert newest.details == {"fields": ["account_info", "business_info", "name"]}


def test_owner_info_changes_the_owners_profile_in_the_same_transaction(deps, owner, account):
    accounts.update(deps, update_ctx(deps, owner, account.account_id),
                    {"owner_info": {"first_name": "Liv", "phone": "+15550100"}})

    profile = user_of(deps, owner)
    assert (profile.first_name, profile.phone) == ("Liv", "+15550100")


def test_update_refuses_a_forbidden_field_group_and_writes_nothing(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")
    ctx = update_ctx(deps, collaborator, account.account_id)

    # business_info alone is allowed to a collaborator; account_info is not, so neither is written
    with pytest.raises(Forbidden):
        accounts.update(deps, ctx, {"business_info": {"city": "Leeds"}, "account_info": {"plan": "pro"}})

    stored = deps.store.accounts.get(account.account_id)
    assert (stored.business_info, stored.plan, stored.version) == ({}, "starter", account.version)
    denied = deps.store.audit.list("account", account.account_id, 1, None).items[0]
    assert denied.action == "access.denied"
    assert denied.actor.user_id == collaborator.user_id
    assert denied.details == {"permission": "account_info.update", "fields": ["account_info"]}
    assert audit_actions(deps, account.account_id) == ["access.denied", "account.created"]


def test_update_from_a_stale_read_is_a_conflict(deps, owner, account):
    first = update_ctx(deps, owner, account.account_id)
    second = update_ctx(deps, owner, account.account_id)
    accounts.update(deps, first, {"name": "First"})

    with pytest.raises(Conflict):
        accounts.update(deps, second, {"name": "Second"})
    assert deps.store.accounts.get(account.account_id).name == "First"


# close -----------------------------------------------------------------------------------------

def test_the_owner_closes_the_account(deps, owner, account):
    accounts.close(deps, on_account(deps, owner, account.account_id, "account.close"))

    assert deps.store.accounts.get(account.account_id).status == "closed"
    assert audit_actions(deps, account.account_id) == ["account.closed", "account.created"]


def test_a_closed_account_refuses_changes_and_a_second_close(deps, owner, account):
    accounts.close(deps, on_account(deps, owner, account.account_id, "account.close"))

    with pytest.raises(InvalidState):
        accounts.update(deps, update_ctx(deps, owner, account.account_id), {"name": "Reopened?"})
    with pytest.raises(InvalidState):
        accounts.close(deps, on_account(deps, owner, account.account_id, "account.close"))
    assert deps.store.accounts.get(account.account_id).name == "Household"


def test_only_the_owner_may_close(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")

    with pytest.raises(Forbidden):
        on_account(deps, collaborator, account.account_id, "account.close")
    assert deps.store.accounts.get(account.account_id).status == "active"


# account scope -------------------------------------------------------------------------------

def test_a_stranger_gets_not_found_and_nothing_is_audited(deps, owner, account):
    stranger = person(deps, "sam")

    with pytest.raises(NotFound):
        on_account(deps, stranger, account.account_id)
    assert audit_actions(deps, account.account_id) == ["account.created"]


def test_an_unknown_account_is_not_found(deps, owner):
    with pytest.raises(NotFound):
        on_account(deps, owner, "acc_missing")


def test_a_member_of_another_account_is_a_stranger_here(deps, owner, account):
    neighbour = person(deps, "nina")
    accounts.create(deps, signed_in(deps, neighbour), "Next door", "personal")

    with pytest.raises(NotFound):
        on_account(deps, neighbour, account.account_id)


def test_a_member_without_the_permission_gets_forbidden_and_it_is_audited(deps, owner, account):
    guest = person(deps, "gus")
    join(deps, account.account_id, guest, "guest")

    with pytest.raises(Forbidden):
        on_account(deps, guest, account.account_id, "money.withdraw")

    denied = deps.store.audit.list("account", account.account_id, 1, None).items[0]
    assert denied.action == "access.denied"
    assert (denied.actor.user_id, denied.actor.email) == (guest.user_id, user_of(deps, guest).email)
    assert denied.details == {"permission": "money.withdraw"}


def test_an_authorized_user_in_review_has_admin_rights_only(deps, owner, account):
    applicant = person(deps, "alex")
    join(deps, account.account_id, applicant, "authorized_user", status="in_review")

    ctx = on_account(deps, applicant, account.account_id, "members.view")
    assert not ctx.can("money.withdraw")
    with pytest.raises(Forbidden):
        on_account(deps, applicant, account.account_id, "money.withdraw")


def test_authorize_returns_the_callers_membership_and_permissions(deps, owner, account):
    ctx = on_account(deps, owner, account.account_id, "account.view", "account.close")

    assert ctx.membership.role == "owner" and ctx.account.account_id == account.account_id
    assert ctx.can("account.close") and accounts.check(ctx, "money.withdraw") is True
    assert ctx.acting_for is None and ctx.actor.acting_for is None


def test_any_of_several_permissions_is_enough(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")

    assert update_ctx(deps, collaborator, account.account_id).membership.role == "collaborator"


def test_a_removed_member_is_refused_on_the_next_request(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")
    member = on_account(deps, collaborator, account.account_id).membership

    tx = deps.store.transaction()
    deps.store.accounts.remove_member(tx, member, None, 0)
    tx.commit()

    with pytest.raises(NotFound):
        on_account(deps, collaborator, account.account_id)


def test_checking_an_action_outside_the_matrix_is_a_validation_error(deps, owner, account):
    ctx = on_account(deps, owner, account.account_id)
    with pytest.raises(ValidationFailed):
        accounts.check(ctx, "money.print")


# advisors: partner staff on the firm's client accounts -------------------------------------------

@pytest.fixture
def firm(deps):
    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    return partner, admin


def test_a_partner_admin_reaches_every_client_of_the_firm_as_advisor_acting_for_it(deps, firm):
    partner, admin = firm
    client = client_account(deps, partner.partner_id, person(deps, "cleo"))

    ctx = on_account(deps, admin, client.account_id, "statements.view")

    assert (ctx.membership.role, ctx.acting_for) == ("advisor", partner.partner_id)
    assert ctx.actor.acting_for == partner.partner_id
    assert ctx.can("owners.invite") and not ctx.can("money.withdraw")


def test_staff_reach_only_the_clients_assigned_to_them(deps, firm):
    partner, _ = firm
    adviser, other = person(deps, "sven", totp=True), person(deps, "stella", totp=True)
    for who in (adviser, other):
        add_staff(deps, partner, who, "staff")
    mine = client_account(deps, partner.partner_id, person(deps, "cleo"), assigned=[adviser.user_id])
    theirs = client_account(deps, partner.partner_id, person(deps, "chris"), assigned=[other.user_id])

    assert on_account(deps, adviser, mine.account_id).membership.role == "advisor"
    with pytest.raises(NotFound):  # not assigned: the client account does not exist for them
        on_account(deps, adviser, theirs.account_id)


def test_staff_of_another_firm_and_advisors_on_personal_accounts_are_strangers(deps, firm, account):
    partner, admin = firm
    rival_admin = person(deps, "rita")
    partners.create(deps, signed_in(deps, rival_admin), "Rival LLP")
    client = client_account(deps, partner.partner_id, person(deps, "cleo"))

    with pytest.raises(NotFound):
        on_account(deps, rival_admin, client.account_id)
    with pytest.raises(NotFound):  # the firm's admin has no way into an account that is not the firm's client
        on_account(deps, admin, account.account_id)


def test_an_advisors_refused_attempt_is_audited_as_acting_for_the_firm(deps, firm):
    partner, admin = firm
    client = client_account(deps, partner.partner_id, person(deps, "cleo"))

    with pytest.raises(Forbidden) as refused:
        on_account(deps, admin, client.account_id, "money.withdraw")
    assert refused.value.code == "forbidden"

    denied = deps.store.audit.list("account", client.account_id, 1, None).items[0]
    assert denied.action == "access.denied" and denied.actor.acting_for == partner.partner_id


def test_removing_a_staff_member_ends_their_advisor_access_at_once(deps, firm):
    partner, admin = firm
    adviser = person(deps, "sven", totp=True)
    add_staff(deps, partner, adviser, "staff")
    client = client_account(deps, partner.partner_id, person(deps, "cleo"), assigned=[adviser.user_id])
    on_account(deps, adviser, client.account_id)

    partners.remove_staff(deps, on_partner(deps, admin, partner.partner_id), adviser.user_id)

    with pytest.raises(NotFound):
        on_account(deps, adviser, client.account_id)
    with pytest.raises(NotFound):
        on_partner(deps, adviser, partner.partner_id)


# partner scope -----------------------------------------------------------------------------------

def test_creating_a_partner_makes_the_caller_its_partner_admin(deps, firm):
    partner, admin = firm

    ctx = on_partner(deps, admin, partner.partner_id, "staff.manage")

    assert (ctx.staff.role, ctx.partner.name, ctx.partner.admin_count) == ("partner_admin", "Ledger & Co", 1)
    assert user_of(deps, admin).partner_roles == {partner.partner_id: "partner_admin"}
    assert audit_actions(deps, partner.partner_id, "partner") == ["partner.created"]


def test_staff_without_the_permission_get_forbidden_in_the_partner_log(deps, firm):
    partner, _ = firm
    staffer = person(deps, "sven", totp=True)
    add_staff(deps, partner, staffer, "staff")

    assert on_partner(deps, staffer, partner.partner_id, "clients.view").staff.role == "staff"
    with pytest.raises(Forbidden) as refused:
        on_partner(deps, staffer, partner.partner_id, "staff.manage")
    assert refused.value.code == "forbidden"
    assert audit_actions(deps, partner.partner_id, "partner")[0] == "access.denied"


def test_a_stranger_or_an_unknown_partner_is_not_found(deps, firm):
    partner, admin = firm
    with pytest.raises(NotFound):
        on_partner(deps, person(deps, "sam"), partner.partner_id)
    with pytest.raises(NotFound):
        on_partner(deps, admin, "prt_missing")


def test_the_last_partner_admin_cannot_leave_or_be_removed(deps, firm):
    from chalicelib.domain.errors import LastOwner

    partner, admin = firm
    with pytest.raises(LastOwner):
        partners.remove_staff(deps, on_partner(deps, admin, partner.partner_id), "me")
    second = person(deps, "paula", totp=True)
    add_staff(deps, partner, second, "partner_admin")
    partners.remove_staff(deps, on_partner(deps, second, partner.partner_id), admin.user_id)
    with pytest.raises(NotFound):
        on_partner(deps, admin, partner.partner_id)


# reviewer scope ----------------------------------------------------------------------------------

def test_only_a_verified_reviewer_email_opens_the_reviewer_scope(deps):
    reviewer, unverified, other = person(deps, "rev"), person(deps, "unrev", verified=False), person(deps, "olga")
    emails = frozenset({user_of(deps, reviewer).email, user_of(deps, unverified).email})
    deps.settings = replace(deps.settings, reviewer_emails=emails)

    assert access.authorize(deps, scopes.REVIEWER, reviewer, {}).user.user_id == reviewer.user_id
    for refused in (unverified, other):
        with pytest.raises(Forbidden):
            access.authorize(deps, scopes.REVIEWER, refused, {})
