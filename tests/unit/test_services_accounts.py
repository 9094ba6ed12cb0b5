"""Accounts and the authorization every request goes through, on in-memory fakes."""
from __future__ import annotations

import pytest

from chalicelib.domain.accounts import ANY_UPDATE_PERMISSIONS
from chalicelib.domain.errors import Conflict, Forbidden, InvalidState, NotFound, Unauthenticated, ValidationFailed
from chalicelib.domain.model import Membership, User
from chalicelib.services import access, accounts
from chalicelib.services.principal import Principal
from tests.fakes import make_deps


@pytest.fixture
def deps():
    return make_deps()


def person(deps, name: str) -> Principal:
    user = User(deps.secrets.new_id("usr"), f"{name}@example.com", name.title(), "Example",
                deps.clock.now(), email_verified=True)
    deps.store.create_user(user)
    return Principal(user.user_id, source_ip="198.51.100.7")


def join(deps, account_id: str, principal: Principal, role: str, status: str = "active") -> None:
    # Memberships other than the owner's come from invitations; this writes one as accepting would.
    user = deps.store.get_user(principal.user_id)
    deps.store.members[(account_id, user.user_id)] = Membership(account_id, user.user_id, role, status,
                                                                 deps.clock.now(), email=user.email)


def audit_actions(deps, account_id: str) -> list[str]:
    return [e.action for e in deps.store.list_audit(account_id, 100, None).items]


@pytest.fixture
def owner(deps):
    return person(deps, "olivia")


@pytest.fixture
def account(deps, owner):
    created, _, _ = accounts.create(deps, owner, "Household", "personal")
    return created


# create ----------------------------------------------------------------------------------------

def test_create_makes_the_caller_the_one_owner(deps, owner):
    account, membership, users = accounts.create(deps, owner, "Household", "personal")

    stored = deps.store.get_account(account.account_id)
    assert (stored.name, stored.type, stored.status, stored.owner_ids) == ("Household", "personal", "active",
                                                                           [owner.user_id])
    mine = deps.store.get_membership(account.account_id, owner.user_id)
    assert (mine.role, mine.status, mine.email) == ("owner", "active", "olivia@example.com")
    assert membership == mine and [u.user_id for u in users] == [owner.user_id]
    assert [m.account_id for m in deps.store.memberships_of_user(owner.user_id)] == [account.account_id]


def test_create_records_an_account_created_event_by_the_owner(deps, owner):
    account, _, _ = accounts.create(deps, owner, "Household", "personal")

    [event] = deps.store.list_audit(account.account_id, 10, None).items
    assert event.action == "account.created" and event.at == deps.clock.now()
    assert (event.actor.user_id, event.actor.email) == (owner.user_id, "olivia@example.com")
    assert (event.target_type, event.target_id) == ("account", account.account_id)
    assert event.details == {"name": "Household", "type": "personal"}


def test_create_for_a_caller_whose_user_is_gone_is_unauthenticated(deps):
    # a valid token for a user deleted since: the caller must sign in again
    with pytest.raises(Unauthenticated):
        accounts.create(deps, Principal("usr_ghost"), "Household", "personal")
    assert deps.store.accounts == {}


# update ----------------------------------------------------------------------------------------

def test_the_owner_updates_several_field_groups_at_once(deps, owner, account):
    ctx = access.authorize(deps, owner, account.account_id, ANY_UPDATE_PERMISSIONS)

    updated = accounts.update(deps, ctx, {"name": "Our household", "business_info": {"city": "Leeds"},
                                          "account_info": {"plan": "pro"}})

    stored = deps.store.get_account(account.account_id)
    assert updated.version == stored.version == account.version + 1
    assert (stored.name, stored.business_info, stored.plan) == ("Our household", {"city": "Leeds"}, "pro")
    newest = deps.store.list_audit(account.account_id, 1, None).items[0]
    assert newest.action == "account.updated"
    assert newest.details == {"fields": ["account_info", "business_info", "name"]}


def test_update_refuses_a_forbidden_field_group_and_writes_nothing(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")
    ctx = access.authorize(deps, collaborator, account.account_id, ANY_UPDATE_PERMISSIONS)

    # business_info alone is allowed to a collaborator; account_info is not, so neither is written
    with pytest.raises(Forbidden):
        accounts.update(deps, ctx, {"business_info": {"city": "Leeds"}, "account_info": {"plan": "pro"}})

    stored = deps.store.get_account(account.account_id)
    assert (stored.business_info, stored.plan, stored.version) == ({}, "starter", account.version)
    denied = deps.store.list_audit(account.account_id, 1, None).items[0]
    assert denied.action == "access.denied"
    assert denied.actor.user_id == collaborator.user_id
    assert denied.details == {"permission": "account_info.update", "fields": ["account_info"]}
    assert audit_actions(deps, account.account_id) == ["access.denied", "account.created"]


def test_update_from_a_stale_read_is_a_conflict(deps, owner, account):
    first = access.authorize(deps, owner, account.account_id, ANY_UPDATE_PERMISSIONS)
    second = access.authorize(deps, owner, account.account_id, ANY_UPDATE_PERMISSIONS)
    accounts.update(deps, first, {"name": "First"})

    with pytest.raises(Conflict):
        accounts.update(deps, second, {"name": "Second"})
    assert deps.store.get_account(account.account_id).name == "First"


# close -----------------------------------------------------------------------------------------

def test_the_owner_closes_the_account(deps, owner, account):
    accounts.close(deps, access.authorize(deps, owner, account.account_id, "account.close"))

    assert deps.store.get_account(account.account_id).status == "closed"
    assert audit_actions(deps, account.account_id) == ["account.closed", "account.created"]


def test_a_closed_account_refuses_changes_and_a_second_close(deps, owner, account):
    accounts.close(deps, access.authorize(deps, owner, account.account_id, "account.close"))

    with pytest.raises(InvalidState):
        accounts.update(deps, access.authorize(deps, owner, account.account_id, ANY_UPDATE_PERMISSIONS),
                        {"name": "Reopened?"})
    with pytest.raises(InvalidState):
        accounts.close(deps, access.authorize(deps, owner, account.account_id, "account.close"))
    assert deps.store.get_account(account.account_id).name == "Household"


def test_only_the_owner_may_close(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")

    with pytest.raises(Forbidden):
        access.authorize(deps, collaborator, account.account_id, "account.close")
    assert deps.store.get_account(account.account_id).status == "active"


# authorization ---------------------------------------------------------------------------------

def test_a_stranger_gets_not_found_and_nothing_is_audited(deps, owner, account):
    stranger = person(deps, "sam")

    with pytest.raises(NotFound):
        access.authorize(deps, stranger, account.account_id, "account.view")
    assert audit_actions(deps, account.account_id) == ["account.created"]


def test_an_unknown_account_is_not_found(deps, owner):
    with pytest.raises(NotFound):
        access.authorize(deps, owner, "acc_missing", "account.view")


def test_a_member_of_another_account_is_a_stranger_here(deps, owner, account):
    neighbour = person(deps, "nina")
    accounts.create(deps, neighbour, "Next door", "personal")

    with pytest.raises(NotFound):
        access.authorize(deps, neighbour, account.account_id, "account.view")


def test_a_member_without_the_permission_gets_forbidden_and_it_is_audited(deps, owner, account):
    guest = person(deps, "gus")
    join(deps, account.account_id, guest, "guest")

    with pytest.raises(Forbidden):
        access.authorize(deps, guest, account.account_id, "money.withdraw")

    denied = deps.store.list_audit(account.account_id, 1, None).items[0]
    assert denied.action == "access.denied"
    assert (denied.actor.user_id, denied.actor.email) == (guest.user_id, "gus@example.com")
    assert denied.details == {"permission": "money.withdraw"}


def test_an_authorized_user_in_review_has_admin_rights_only(deps, owner, account):
    applicant = person(deps, "alex")
    join(deps, account.account_id, applicant, "authorized_user", status="in_review")

    ctx = access.authorize(deps, applicant, account.account_id, "members.view")
    assert not ctx.can("money.withdraw")
    with pytest.raises(Forbidden):
        access.authorize(deps, applicant, account.account_id, "money.withdraw")


def test_authorize_returns_the_callers_membership_and_permissions(deps, owner, account):
    ctx = access.authorize(deps, owner, account.account_id, frozenset({"account.view", "account.close"}))

    assert ctx.membership.role == "owner" and ctx.account.account_id == account.account_id
    assert ctx.can("account.close") and accounts.check(ctx, "money.withdraw") is True


def test_any_of_several_permissions_is_enough(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")

    ctx = access.authorize(deps, collaborator, account.account_id, ANY_UPDATE_PERMISSIONS)
    assert ctx.membership.role == "collaborator"


def test_a_removed_member_is_refused_on_the_next_request(deps, owner, account):
    collaborator = person(deps, "carl")
    join(deps, account.account_id, collaborator, "collaborator")
    access.authorize(deps, collaborator, account.account_id, "account.view")

    del deps.store.members[(account.account_id, collaborator.user_id)]

    with pytest.raises(NotFound):
        access.authorize(deps, collaborator, account.account_id, "account.view")


def test_checking_an_action_outside_the_matrix_is_a_validation_error(deps, owner, account):
    ctx = access.authorize(deps, owner, account.account_id, "account.view")
    with pytest.raises(ValidationFailed):
        accounts.check(ctx, "money.print")
