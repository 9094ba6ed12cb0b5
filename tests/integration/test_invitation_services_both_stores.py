"""The invitation use cases on the in-memory store and on DynamoDB (moto): one behaviour, two stores."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import errors
from chalicelib.domain.model import User
from chalicelib.services import accounts, invitations, members, sweep
from chalicelib.services.access import authorize
from chalicelib.services.principal import Principal
from tests.fakes import make_deps


@pytest.fixture(params=["memory", "dynamo"])
def deps(request):
    if request.param == "memory":
        return make_deps()
    request.getfixturevalue("aws")
    from chalicelib.adapters.dynamo_store import DynamoStore

    return make_deps(store=DynamoStore())


def user(deps, email):
    u = User(deps.secrets.new_id("usr"), email, "Given", "Family", deps.clock.now(), email_verified=True)
    deps.store.create_user(u)
    return u


@pytest.fixture
def world(deps):
    owner = user(deps, "owner@example.com")
    account, _, _ = accounts.create(deps, Principal(owner.user_id), "Bakery", "business")
    ctx = authorize(deps, Principal(owner.user_id), account.account_id, "collaborators.invite")
    return deps, owner, account, ctx


def last_token(deps, email):
    return deps.mailer.last_token(email, "/i/")


def test_create_then_accept_makes_a_member_and_clears_the_pending_state(world):
    deps, owner, account, ctx = world
    friend = user(deps, "friend@example.com")
    inv = invitations.create(deps, ctx, {"email": "Friend@Example.com", "role": "collaborator"})
    assert [i.invitation_id for i in invitations.pending_for(deps, "friend@example.com")] == [inv.invitation_id]
    _, membership = invitations.accept(deps, Principal(friend.user_id), last_token(deps, "friend@example.com"))
    assert membership.role == "collaborator" and membership.status == "active"
    assert deps.store.get_membership(account.account_id, friend.user_id).role == "collaborator"
    assert invitations.pending_for(deps, "friend@example.com") == []
    assert deps.store.get_invitation(account.account_id, inv.invitation_id).status == "accepted"
    # a new invitation to a member is refused
    with pytest.raises(errors.AlreadyMember):
        invitations.create(deps, ctx, {"email": "friend@example.com", "role": "guest"})


def test_a_second_pending_invitation_is_refused_until_the_first_is_closed(world):
    deps, owner, account, ctx = world
    first = invitations.create(deps, ctx, {"email": "x@example.com", "role": "guest"})
    with pytest.raises(errors.InvitationPending):
        invitations.create(deps, ctx, {"email": "x@example.com", "role": "collaborator"})
    invitations.revoke(deps, ctx, first.invitation_id)
    assert invitations.create(deps, ctx, {"email": "x@example.com", "role": "collaborator"}).status == "pending"


def test_accepting_an_authorized_user_invitation_keeps_its_slot_and_starts_the_application(world):
    deps, owner, account, ctx = world
    au = user(deps, "au@example.com")
    invitations.create(deps, ctx, {"email": "au@example.com", "role": "authorized_user"})
    _, membership = invitations.accept(deps, Principal(au.user_id), last_token(deps, "au@example.com"))
    assert membership.status == "application_required"
    assert deps.store.get_account(account.account_id).authorized_user_slots == 1
    members.remove(deps, authorize(deps, Principal(owner.user_id), account.account_id, "account.view"), au.user_id)
    assert deps.store.get_account(account.account_id).authorized_user_slots == 0


def test_decline_and_revoke_free_the_authorized_user_slot(world):
    deps, owner, account, ctx = world
    a = invitations.create(deps, ctx, {"email": "a@example.com", "role": "authorized_user"})
    invitations.create(deps, ctx, {"email": "b@example.com", "role": "authorized_user"})
    with pytest.raises(errors.AuthorizedUserLimit):
        invitations.create(deps, ctx, {"email": "c@example.com", "role": "authorized_user"})
    invitations.decline(deps, last_token(deps, "b@example.com"), None)
    invitations.revoke(deps, ctx, a.invitation_id)
    assert deps.store.get_account(account.account_id).authorized_user_slots == 0
    invitations.create(deps, ctx, {"email": "c@example.com", "role": "authorized_user"})


def test_the_sweep_expires_due_invitations_once_and_leaves_others(world):
    deps, owner, account, ctx = world
    soon = invitations.create(deps, ctx, {"email": "soon@example.com", "role": "authorized_user", "expires_in_days": 1})
    later = invitations.create(deps, ctx, {"email": "later@example.com", "role": "guest", "expires_in_days": 10})
    deps.clock.advance(timedelta(days=2).total_seconds())
    assert sweep.expire_invitations(deps) == {"expired": 1, "skipped": 0, "failed": 0}
    assert sweep.expire_invitations(deps) == {"expired": 0, "skipped": 0, "failed": 0}
    assert deps.store.get_invitation(account.account_id, soon.invitation_id).status == "expired"
    assert deps.store.get_invitation(account.account_id, later.invitation_id).status == "pending"
    assert deps.store.get_account(account.account_id).authorized_user_slots == 0
    with pytest.raises(errors.InvitationExpired):
        invitations.decline(deps, last_token(deps, "soon@example.com"), None)


def test_resend_of_a_swept_invitation_revives_it_with_a_new_link(world):
    deps, owner, account, ctx = world
    inv = invitations.create(deps, ctx, {"email": "r@example.com", "role": "collaborator", "expires_in_days": 1})
    old = last_token(deps, "r@example.com")
    deps.clock.advance(timedelta(days=2).total_seconds())
    sweep.expire_invitations(deps)
    again = invitations.resend(deps, ctx, inv.invitation_id)
    assert again.status == "pending" and again.send_count == 2
    new = last_token(deps, "r@example.com")
    assert new != old
    with pytest.raises(errors.NotFound):
        invitations.lookup(deps, old, None)
    assert invitations.lookup(deps, new, None).effective_status(deps.clock.now()) == "pending"


def test_the_last_owner_cannot_leave_and_removal_needs_the_matrix_permission(world):
    deps, owner, account, ctx = world
    guest = user(deps, "guest@example.com")
    invitations.create(deps, ctx, {"email": "guest@example.com", "role": "guest"})
    invitations.accept(deps, Principal(guest.user_id), last_token(deps, "guest@example.com"))
    guest_ctx = authorize(deps, Principal(guest.user_id), account.account_id, "account.view")
    with pytest.raises(errors.Forbidden):
        members.remove(deps, guest_ctx, owner.user_id)
    owner_ctx = authorize(deps, Principal(owner.user_id), account.account_id, "account.view")
    with pytest.raises(errors.LastOwner):
        members.remove(deps, owner_ctx, "me")
    members.remove(deps, guest_ctx, "me")
    with pytest.raises(errors.NotFound):
        authorize(deps, Principal(guest.user_id), account.account_id, "account.view")
