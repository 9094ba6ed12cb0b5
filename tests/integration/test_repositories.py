"""Each repository of the one table, on moto in process: what it writes, what its conditions refuse, and
how many DynamoDB calls its reads make (a list is one Query, an access check one BatchGetItem).

The table is shared by the whole module: every test makes its own ids (FakeSecrets never repeats one)."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from threading import Barrier

import pytest
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamo import keys, table
from chalicelib.adapters.dynamo.invitations import invite_item
from chalicelib.adapters.dynamo.models import Item, SeatItem
from chalicelib.adapters.dynamo.store import Store
from chalicelib.adapters.dynamo.unit_of_work import UnitOfWork
from chalicelib.domain.errors import (AlreadyMember, AuthorizedUserLimit, Conflict, DomainError, InvalidState,
                                      InvitationPending, LastOwner, RateLimited, UserExists, ValidationFailed)
from chalicelib.domain.invitations import Invitation
from chalicelib.domain.model import (Account, Actor, AuditEvent, Membership, OneTimeToken, Partner, StaffMember,
                                     User)
from tests.dynamo_calls import dynamodb_calls
from tests.fakes import START, FakeSecrets, make_deps

pytestmark = pytest.mark.usefixtures("table")

NOW = START
DAY = timedelta(days=1)
IDS = FakeSecrets()


@pytest.fixture
def store() -> Store:
    return make_deps().store


# test data, writes and call counts --------------------------------------------------------------------

@contextlib.contextmanager
def writing():
    """A unit of work, committed when the block ends."""
    tx = UnitOfWork()
    yield tx
    tx.commit()




def email_of(user_id: str) -> str:
    return f"{user_id}@example.com"


def a_hash() -> str:
    return hashlib.sha256(IDS.token().encode()).hexdigest()


def a_user(email: str | None = None) -> User:
    user_id = IDS.new_id("usr")
    return User(user_id, email or email_of(user_id), "Ada", "Lovelace", NOW)


def add_user(store: Store, email: str | None = None) -> User:
    user = a_user(email)
    with writing() as tx:
        store.users.add(tx, user)
    return user


def a_member(account_id: str, role: str = "collaborator", user_id: str | None = None) -> Membership:
    user_id = user_id or IDS.new_id("usr")
    return Membership(account_id, user_id, role, "active", NOW, email=email_of(user_id))


def open_account(store: Store, type_: str = "personal", owner_id: str | None = None,
                 **fields) -> tuple[Account, Membership]:
    account_id = IDS.new_id("acc")
    owner = a_member(account_id, "owner", owner_id)
    fields.setdefault("owner_ids", [owner.user_id])
    account = Account(account_id, "Household", type_, NOW, **fields)
    with writing() as tx:
        store.accounts.add(tx, account, owner)
    return account, owner


def add_member(store: Store, account_id: str, role: str = "collaborator", user_id: str | None = None) -> Membership:
    member = a_member(account_id, role, user_id)
    with writing() as tx:
        store.accounts.add_member(tx, member)
    return member


def an_invitation(target_id: str, email: str | None = None, role: str = "guest", expires_at: datetime | None = None,
                  target_type: str = "account") -> Invitation:
    invitation_id = IDS.new_id("inv")
    expires_at = expires_at or NOW + 30 * DAY
    target = {"account_id": target_id} if target_type == "account" else {"partner_id": target_id}
    return Invitation(invitation_id=invitation_id, target_type=target_type,
                      email=email or f"{invitation_id}@example.com",
                      role=role, status="pending", invited_by_user_id="usr_inviter", invited_by_name="Inviter",
                      created_at=expires_at - 30 * DAY, expires_at=expires_at, last_sent_at=expires_at - 30 * DAY,
                      send_count=1, token_hash=a_hash(), **target)


def invite(store: Store, target_id: str, **fields) -> Invitation:
    inv = an_invitation(target_id, **fields)
    with writing() as tx:
        store.invitations.add(tx, inv)
    return inv


def resent(store: Store, inv: Invitation, now: datetime, revived: bool = False) -> Invitation:
    """Resend as the service does: a new link and expiry, one more send; returns the invitation as it is now."""
    new = dataclasses.replace(inv, token_hash=a_hash(), last_sent_at=now, send_count=inv.send_count + 1,
                              expires_at=now + inv.valid_days * DAY, status="pending", delivery_status="queued")
    with writing() as tx:
        store.invitations.resend(tx, new, inv.token_hash, revived)
    return new


def close(store: Store, inv: Invitation, status: str, now: datetime, token_hash: str | None = None) -> None:
    with writing() as tx:
        store.invitations.close(tx, dataclasses.replace(inv), status, now, token_hash=token_hash)


def accept(store: Store, inv: Invitation, now: datetime) -> None:
    with writing() as tx:
        store.invitations.accept(tx, dataclasses.replace(inv), now)


def seat(parent: str, email: str) -> tuple[str, str | None, str | None] | None:
    """Who holds an email's place in an account or partner: (state, invitation id, user id), or None."""
    item = table.get(SeatItem, *keys.seat(parent, email))
    return (item.state, item.invitation_id, item.user_id) if item else None


def ids(items) -> list[str]:
    return [getattr(i, "invitation_id", None) or getattr(i, "event_id", None) or i.user_id for i in items]


def all_pages(list_page, limit: int) -> tuple[list, list[int], list[list[str]]]:
    """Every item of a list read page by page: the items, the page sizes, and the calls each page made."""
    items, sizes, calls, cursor = [], [], [], None
    for _ in range(50):  # a list that never ends fails instead of hanging
        with dynamodb_calls() as made:
            page = list_page(limit, cursor)
        items += page.items
        sizes.append(len(page.items))
        calls.append(made)
        if page.next_cursor is None:
            return items, sizes, calls
        cursor = page.next_cursor
    raise AssertionError(f"still a next cursor after 50 pages of {limit}")


def an_event(target_type: str, target_id: str, at: datetime = NOW, action: str = "account.updated",
             actor: Actor | None = None, **details) -> AuditEvent:
    log = {"account_id": target_id} if target_type == "account" else {"partner_id": target_id}
    return AuditEvent(IDS.new_id("evt"), at, action, actor or Actor("usr_actor", "actor@example.com"), target_type,
                      target_id, details, **log)


# users ------------------------------------------------------------------------------------------------

def test_a_new_user_is_found_by_id_and_by_email(store):
    user = add_user(store)

    assert store.users.get(user.user_id) == user
    assert store.users.id_for_email(user.email) == user.user_id
    assert store.users.get(IDS.new_id("usr")) is None
    assert store.users.id_for_email("nobody@example.com") is None


def test_a_second_user_with_a_taken_email_is_user_exists_and_the_first_keeps_it(store):
    # GIVEN a user
    first = add_user(store)
    second = a_user(first.email)

    # WHEN another user signs up with the same email
    with pytest.raises(UserExists):
        with writing() as tx:
            store.users.add(tx, second)

    # THEN neither half of the second user was written
    assert store.users.get(second.user_id) is None
    assert store.users.id_for_email(first.email) == first.user_id
    assert store.users.get(first.user_id) == first


def test_removing_a_user_deletes_the_profile_and_frees_the_email(store):
    user = add_user(store)

    store.users.remove(user)

    assert store.users.get(user.user_id) is None
    assert store.users.id_for_email(user.email) is None
    again = add_user(store, user.email)
    assert store.users.id_for_email(user.email) == again.user_id


def test_removing_a_user_whose_email_belongs_to_someone_else_removes_nothing(store):
    # GIVEN two users
    mine, theirs = add_user(store), add_user(store)

    # WHEN the first is removed under the second's email (the sentinel is not the first's)
    with pytest.raises(DomainError):
        store.users.remove(dataclasses.replace(mine, email=theirs.email))

    # THEN both users and both emails are intact
    assert store.users.get(mine.user_id) == mine
    assert store.users.id_for_email(theirs.email) == theirs.user_id


def test_users_are_read_in_one_batch_and_missing_ids_are_left_out(store):
    one, two = add_user(store), add_user(store)

    with dynamodb_calls() as calls:
        found = store.users.get_many([two.user_id, one.user_id, IDS.new_id("usr"), one.user_id])

    assert found == {one.user_id: one, two.user_id: two}
    assert calls == ["BatchGetItem"]
    assert store.users.get_many([]) == {}


def test_verification_login_and_sign_out_everywhere_are_recorded_on_the_user(store):
    user = add_user(store)
    later, latest = NOW + timedelta(hours=1), NOW + timedelta(hours=2)

    store.users.mark_verified(user.user_id)
    store.users.record_login(user.user_id, later)
    store.users.revoke_sessions(user.user_id, latest)

    got = store.users.get(user.user_id)
    assert (got.email_verified, got.last_login_at, got.sessions_revoked_at) == (True, later, latest)
    assert (got.email, got.first_name) == (user.email, user.first_name)


def test_verification_login_and_sign_out_of_a_missing_user_write_nothing(store):
    ghost = IDS.new_id("usr")

    store.users.mark_verified(ghost)
    store.users.record_login(ghost, NOW)
    store.users.revoke_sessions(ghost, NOW)

    assert store.users.get(ghost) is None
    assert table.batch_get([keys.user(ghost)]) == []


def test_profile_changes_keep_to_profile_fields_and_partner_roles_are_set_and_removed(store):
    user = add_user(store)

    with writing() as tx:
        store.users.update_profile(tx, user.user_id, {"first_name": "Grace", "phone": "+441234567890",
                                                      "email": "evil@example.com"})
    with writing() as tx:
        store.users.set_partner_role(tx, user.user_id, "prt_a", "staff")
    with writing() as tx:
        store.users.set_partner_role(tx, user.user_id, "prt_b", "partner_admin")
    assert store.users.get(user.user_id).partner_roles == {"prt_a": "staff", "prt_b": "partner_admin"}
    with writing() as tx:
        store.users.set_partner_role(tx, user.user_id, "prt_a", None)

    got = store.users.get(user.user_id)
    assert (got.first_name, got.phone, got.email) == ("Grace", "+441234567890", user.email)
    assert got.partner_roles == {"prt_b": "partner_admin"}


def test_a_one_time_token_is_taken_once(store):
    token = OneTimeToken(a_hash(), "verify_email", IDS.new_id("usr"), NOW + 2 * DAY)
    store.users.put_token(token)

    assert store.users.take_token(token.token_hash, "verify_email") == token
    assert store.users.take_token(token.token_hash, "verify_email") is None


def test_a_token_asked_for_another_purpose_is_none_and_stays_takeable(store):
    token = OneTimeToken(a_hash(), "reset_password", IDS.new_id("usr"), NOW + DAY)
    store.users.put_token(token)

    assert store.users.take_token(token.token_hash, "verify_email") is None
    assert store.users.take_token(token.token_hash, "reset_password") == token


def test_an_unknown_token_and_an_invitation_link_are_no_one_time_token(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id)

    assert store.users.take_token(a_hash(), "verify_email") is None
    assert store.users.take_token(inv.token_hash, "verify_email") is None
    assert store.invitations.by_token(inv.token_hash) is not None  # the link was not taken either


def test_of_several_concurrent_takers_of_a_token_exactly_one_gets_it(store):
    # GIVEN one token and eight takers released at once
    token = OneTimeToken(a_hash(), "verify_email", IDS.new_id("usr"), NOW + DAY)
    store.users.put_token(token)
    start = Barrier(8)

    def take(_):
        start.wait()
        return store.users.take_token(token.token_hash, "verify_email")

    # WHEN they all take it
    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(take, range(8)))

    # THEN one got it, the others nothing
    assert [t for t in taken if t is not None] == [token]
    assert taken.count(None) == 7


# accounts ---------------------------------------------------------------------------------------------

def test_a_new_account_is_written_with_its_owners_membership_and_seat(store):
    account, owner = open_account(store)

    assert store.accounts.get(account.account_id) == account
    assert store.accounts.get_member(account.account_id, owner.user_id) == owner
    assert seat(keys.account_pk(account.account_id), owner.email) == ("member", None, owner.user_id)
    assert store.accounts.get_many([account.account_id, IDS.new_id("acc")]) == {account.account_id: account}


def test_an_update_from_the_version_read_applies_and_bumps_the_version(store):
    account, _ = open_account(store)

    with writing() as tx:
        store.accounts.update(tx, account, {"name": "Ours", "business_info": {"city": "Leeds"}})

    got = store.accounts.get(account.account_id)
    assert (got.name, got.business_info, got.version) == ("Ours", {"city": "Leeds"}, account.version + 1)


def test_of_two_updates_from_the_same_read_the_second_is_a_conflict_and_changes_nothing(store):
    # GIVEN two reads of one account
    account, _ = open_account(store)
    first_read, second_read = store.accounts.get(account.account_id), store.accounts.get(account.account_id)
    with writing() as tx:
        store.accounts.update(tx, first_read, {"name": "First"})

    # WHEN the second read is written too
    with pytest.raises(Conflict):
        with writing() as tx:
            store.accounts.update(tx, second_read, {"name": "Second"})

    # THEN the first write stands
    got = store.accounts.get(account.account_id)
    assert (got.name, got.version) == ("First", account.version + 1)


def test_a_closed_account_is_not_updated_even_from_its_current_version(store):
    account, _ = open_account(store)
    with writing() as tx:
        store.accounts.close(tx, account)
    closed = store.accounts.get(account.account_id)

    with pytest.raises(InvalidState):  # not Conflict: trying again cannot succeed
        with writing() as tx:
            store.accounts.update(tx, closed, {"name": "Reopened"})

    assert store.accounts.get(account.account_id) == closed


def test_an_account_is_closed_once_and_then_refuses_changes_that_need_it_open(store):
    # GIVEN an account closed once
    account, _ = open_account(store)
    with writing() as tx:
        store.accounts.close(tx, account)
    closed = store.accounts.get(account.account_id)
    assert (closed.status, closed.version) == ("closed", account.version + 1)

    # THEN closing it again, taking a slot, or anything that requires it open is refused
    for write in (lambda tx: store.accounts.close(tx, closed),
                  lambda tx: store.accounts.take_slot(tx, account.account_id),
                  lambda tx: (store.accounts.require_open(tx, account.account_id),
                              store.audit.add(tx, an_event("account", account.account_id)))):
        with pytest.raises(InvalidState):
            with writing() as tx:
                write(tx)
    assert store.accounts.get(account.account_id) == closed
    assert store.audit.list("account", account.account_id, 10, None).items == []


def test_a_co_owner_joins_the_owner_list_of_an_open_client_account_and_not_of_a_closed_one(store):
    # GIVEN an open and a closed client account
    account, owner = open_account(store, "client")
    closed, _ = open_account(store, "client")
    with writing() as tx:
        store.accounts.close(tx, closed)
    co_owner = a_member(account.account_id, "owner")

    # WHEN a co-owner joins each, as accepting an owner invitation writes it
    with writing() as tx:
        store.accounts.add_owner(tx, account.account_id, co_owner.user_id)
        store.accounts.add_member(tx, co_owner)
    with pytest.raises(InvalidState):
        with writing() as tx:
            store.accounts.add_owner(tx, closed.account_id, IDS.new_id("usr"))

    # THEN the open account has both owners, one version later; the closed one is unchanged
    got = store.accounts.get(account.account_id)
    assert (got.owner_ids, got.version) == ([owner.user_id, co_owner.user_id], account.version + 1)
    assert store.accounts.get_member(account.account_id, co_owner.user_id) == co_owner
    assert store.accounts.get(closed.account_id).owner_ids == closed.owner_ids


def test_members_are_listed_by_user_id_one_query_per_page(store):
    # GIVEN an account with an owner and four members
    account, owner = open_account(store)
    members = [owner] + [add_member(store, account.account_id, role) for role in
                         ("guest", "admin", "guest", "collaborator")]

    # WHEN all pages of two are read
    found, sizes, calls = all_pages(lambda n, c: store.accounts.list_members(account.account_id, None, n, c), 2)

    # THEN every member came once, by user id, each page from exactly one Query
    assert found == sorted(members, key=lambda m: m.user_id)
    assert sizes[:3] == [2, 2, 1]
    assert all(made == ["Query"] for made in calls)


def test_members_of_one_role_are_listed_from_the_role_index_in_full_pages_one_query_each(store):
    # GIVEN guests and admins interleaved by user id
    account, _ = open_account(store)
    guests, admins = [], []
    for n in range(7):
        (guests if n % 3 != 1 else admins).append(add_member(store, account.account_id,
                                                             "guest" if n % 3 != 1 else "admin"))

    # WHEN the guests are read two at a time
    found, sizes, calls = all_pages(lambda n, c: store.accounts.list_members(account.account_id, "guest", n, c), 2)

    # THEN only guests, all of them, every page full until the last, one Query per page, no empty page that
    # still promises more
    assert found == guests
    assert sizes[:2] == [2, 2] and sizes[2] == 1 and all(sizes[:-1])
    assert all(made == ["Query"] for made in calls)
    assert store.accounts.list_members(account.account_id, "admin", 10, None).items == admins
    assert store.accounts.list_members(account.account_id, "authorized_user", 10, None).items == []


def test_a_member_cursor_only_works_on_the_list_it_came_from(store):
    # GIVEN cursors from the member lists of an account
    account, _ = open_account(store)
    other, _ = open_account(store)
    for _ in range(3):
        add_member(store, account.account_id, "guest")
    everyone = store.accounts.list_members(account.account_id, None, 1, None).next_cursor
    guests = store.accounts.list_members(account.account_id, "guest", 1, None).next_cursor
    assert everyone and guests
    assert store.accounts.list_members(account.account_id, "guest", 1, guests).items  # the right list takes it

    # THEN another role, another account and a changed cursor are refused
    refused = [(account.account_id, "guest", everyone), (account.account_id, None, guests),
               (account.account_id, "admin", guests), (other.account_id, "guest", guests),
               (account.account_id, None, everyone[:-2] + ("AA" if everyone[-2:] != "AA" else "BB")),
               (account.account_id, None, "not a cursor")]
    for account_id, role, cursor in refused:
        with pytest.raises(ValidationFailed):
            store.accounts.list_members(account_id, role, 10, cursor)


def test_at_most_two_authorized_user_slots_are_taken(store):
    account, _ = open_account(store)

    for _ in range(2):
        with writing() as tx:
            store.accounts.take_slot(tx, account.account_id)
    with pytest.raises(AuthorizedUserLimit):
        with writing() as tx:
            store.accounts.take_slot(tx, account.account_id)

    assert store.accounts.get(account.account_id).authorized_user_slots == 2


def test_a_slot_of_a_closed_account_is_invalid_state(store):
    account, _ = open_account(store)
    with writing() as tx:
        store.accounts.close(tx, account)

    with pytest.raises(InvalidState):
        with writing() as tx:
            store.accounts.take_slot(tx, account.account_id)

    assert store.accounts.get(account.account_id).authorized_user_slots == 0


def test_releasing_a_slot_never_goes_below_zero(store):
    account, _ = open_account(store)
    with writing() as tx:
        store.accounts.take_slot(tx, account.account_id)

    with writing() as tx:
        store.accounts.release_slot(tx, account.account_id)
    with pytest.raises(Conflict):
        with writing() as tx:
            store.accounts.release_slot(tx, account.account_id)

    assert store.accounts.get(account.account_id).authorized_user_slots == 0


def test_a_member_takes_over_the_seat_of_their_pending_invitation_and_is_then_already_member(store):
    # GIVEN an invitation holding an email's seat
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    parent = keys.account_pk(account.account_id)
    assert seat(parent, inv.email) == ("invited", inv.invitation_id, None)

    # WHEN that email's user becomes a member
    member = dataclasses.replace(a_member(account.account_id), email=inv.email)
    with writing() as tx:
        store.accounts.add_member(tx, member)

    # THEN the seat is the member's, and neither another membership nor an invitation can take it
    assert seat(parent, inv.email) == ("member", None, member.user_id)
    with pytest.raises(AlreadyMember):
        with writing() as tx:
            store.accounts.add_member(tx, member)
    with pytest.raises(AlreadyMember):
        invite(store, account.account_id, email=inv.email)


def test_removing_an_authorized_user_deletes_membership_and_seat_and_frees_the_slot(store):
    account, _ = open_account(store)
    member = a_member(account.account_id, "authorized_user")
    with writing() as tx:
        store.accounts.take_slot(tx, account.account_id)
        store.accounts.add_member(tx, member)

    with writing() as tx:
        store.accounts.remove_member(tx, member, None, account.version)

    assert store.accounts.get_member(account.account_id, member.user_id) is None
    assert seat(keys.account_pk(account.account_id), member.email) is None
    assert store.accounts.get(account.account_id).authorized_user_slots == 0
    invite(store, account.account_id, email=member.email)  # the email can be invited again


def test_removing_a_member_whose_role_changed_since_it_was_read_is_a_conflict(store):
    account, _ = open_account(store)
    member = add_member(store, account.account_id, "guest")

    with pytest.raises(Conflict):
        with writing() as tx:
            store.accounts.remove_member(tx, dataclasses.replace(member, role="admin"), None, account.version)

    assert store.accounts.get_member(account.account_id, member.user_id) == member


def test_of_two_owners_removed_from_the_same_read_only_the_first_goes_so_one_owner_stays(store):
    # GIVEN a client account with two owners, read once
    first_id, second_id = IDS.new_id("usr"), IDS.new_id("usr")
    account, first = open_account(store, "client", owner_id=first_id, owner_ids=[first_id, second_id])
    second = add_member(store, account.account_id, "owner", second_id)
    read = store.accounts.get(account.account_id)
    assert read.owner_ids == [first.user_id, second.user_id]

    # WHEN each owner is removed, each computed from that same read
    with writing() as tx:
        store.accounts.remove_member(tx, first, [second.user_id], read.version)
    with pytest.raises(Conflict):
        with writing() as tx:
            store.accounts.remove_member(tx, second, [first.user_id], read.version)

    # THEN the second owner and their membership stay
    got = store.accounts.get(account.account_id)
    assert got.owner_ids == [second.user_id]
    assert store.accounts.get_member(account.account_id, second.user_id) == second
    assert store.accounts.get_member(account.account_id, first.user_id) is None


# invitations ------------------------------------------------------------------------------------------

def test_an_invitation_is_written_with_its_link_and_its_email_seat(store):
    account, _ = open_account(store)

    inv = invite(store, account.account_id)

    assert store.invitations.get("account", account.account_id, inv.invitation_id) == inv
    assert store.invitations.by_token(inv.token_hash) == inv
    assert seat(keys.account_pk(account.account_id), inv.email) == ("invited", inv.invitation_id, None)


def test_a_second_pending_invitation_to_an_email_is_invitation_pending_but_another_account_may_invite_it(store):
    # GIVEN a pending invitation to an email
    account, _ = open_account(store)
    other, _ = open_account(store)
    first = invite(store, account.account_id)
    second = an_invitation(account.account_id, email=first.email)

    # WHEN the same account invites the email again
    with pytest.raises(InvitationPending) as raised:
        with writing() as tx:
            store.invitations.add(tx, second)

    # THEN the refusal names the first invitation, and nothing of the second was written
    assert raised.value.holder == first.invitation_id
    assert store.invitations.get("account", account.account_id, second.invitation_id) is None
    assert store.invitations.by_token(second.token_hash) is None
    # and another account still may invite the same email
    assert invite(store, other.account_id, email=first.email).email == first.email


def test_a_link_finds_its_invitation_only_while_it_is_the_current_one(store):
    # GIVEN an invitation resent once
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    later = NOW + timedelta(hours=1)
    current = resent(store, inv, later)

    # THEN the old link finds nothing, the new one the invitation as it is now
    assert store.invitations.by_token(inv.token_hash) is None
    found = store.invitations.by_token(current.token_hash)
    assert found == store.invitations.get("account", account.account_id, inv.invitation_id) == current
    assert (found.expires_at, found.send_count, found.status) == (later + 30 * DAY, 2, "pending")


def test_a_verification_token_is_not_an_invitation_link(store):
    token = OneTimeToken(a_hash(), "verify_email", IDS.new_id("usr"), NOW + DAY)
    store.users.put_token(token)

    assert store.invitations.by_token(token.token_hash) is None
    assert store.invitations.by_token(a_hash()) is None


def test_all_invitations_are_listed_newest_first_by_id_one_query_per_page(store):
    # GIVEN an account with invitations in every state
    account, _ = open_account(store)
    made = [invite(store, account.account_id, expires_at=NOW + (n - 2) * DAY) for n in range(5)]
    accept(store, made[3], NOW)
    close(store, made[4], "revoked", NOW)
    close(store, made[0], "expired", NOW)

    # WHEN all pages of two are read
    found, sizes, calls = all_pages(
        lambda n, c: store.invitations.list("account", account.account_id, None, NOW, n, c), 2)

    # THEN all came once, newest first, each page one Query
    assert ids(found) == sorted(ids(made), reverse=True)
    assert [i.status for i in found] == ["revoked", "accepted", "pending", "pending", "expired"]
    assert sizes[:3] == [2, 2, 1]
    assert all(made == ["Query"] for made in calls)


def test_accepted_declined_and_revoked_invitations_are_listed_by_status_newest_first(store):
    account, _ = open_account(store)
    made = [invite(store, account.account_id) for _ in range(7)]
    accept(store, made[0], NOW)
    accept(store, made[4], NOW)
    close(store, made[1], "declined", NOW, token_hash=made[1].token_hash)
    close(store, made[5], "declined", NOW, token_hash=made[5].token_hash)
    close(store, made[2], "revoked", NOW)

    listed = {status: store.invitations.list("account", account.account_id, status, NOW, 10, None).items
              for status in ("accepted", "declined", "revoked")}

    assert {s: ids(items) for s, items in listed.items()} == {
        "accepted": [made[4].invitation_id, made[0].invitation_id],
        "declined": [made[5].invitation_id, made[1].invitation_id],
        "revoked": [made[2].invitation_id]}
    assert all(i.status == status and i.responded_at == NOW for status, items in listed.items() for i in items)


def test_pending_leaves_out_invitations_past_expiry_and_expired_has_them_before_any_sweep(store):
    # GIVEN invitations expiring before and after now: one of them swept, one accepted
    account, _ = open_account(store)
    long_gone = invite(store, account.account_id, expires_at=NOW - 3 * DAY)
    swept = invite(store, account.account_id, expires_at=NOW - 2 * DAY)
    close(store, swept, "expired", NOW)
    just_gone = invite(store, account.account_id, expires_at=NOW - timedelta(seconds=1))
    soon = invite(store, account.account_id, expires_at=NOW + DAY)
    later = invite(store, account.account_id, expires_at=NOW + 5 * DAY)
    accepted = invite(store, account.account_id, expires_at=NOW + 2 * DAY)
    accept(store, accepted, NOW)

    # WHEN both lists are read
    pending = store.invitations.list("account", account.account_id, "pending", NOW, 10, None)
    expired, sizes, _ = all_pages(
        lambda n, c: store.invitations.list("account", account.account_id, "expired", NOW, n, c), 2)

    # THEN pending has the unexpired ones, latest expiry first
    assert ids(pending.items) == [later.invitation_id, soon.invitation_id]
    # and expired has the swept one and those past expiry still stored pending, most recently expired first
    assert ids(expired) == [just_gone.invitation_id, swept.invitation_id, long_gone.invitation_id]
    assert [i.status for i in expired] == ["pending", "expired", "pending"]
    assert all(i.effective_status(NOW) == "expired" for i in expired)
    assert sizes[:2] == [2, 1]


def test_an_invitation_at_its_expiry_instant_is_listed_as_expired_and_not_as_pending(store):
    # GIVEN an invitation, and the instant it expires
    account, _ = open_account(store)
    inv = invite(store, account.account_id, expires_at=NOW + DAY)
    at_expiry = inv.expires_at
    assert inv.effective_status(at_expiry) == "expired"

    # WHEN both lists are read at that instant
    pending = store.invitations.list("account", account.account_id, "pending", at_expiry, 10, None)
    expired = store.invitations.list("account", account.account_id, "expired", at_expiry, 10, None)

    # THEN it is in the expired list only, as its status says
    assert (ids(pending.items), ids(expired.items)) == ([], [inv.invitation_id])


def test_every_invitation_list_is_one_query_whatever_the_status(store):
    # GIVEN sixty invitations, none revoked, most of them past expiry (written as `add` writes them, in
    # batches: only the invitation items matter to the lists)
    account, _ = open_account(store)
    made = [an_invitation(account.account_id, expires_at=NOW + (DAY if n in (3, 40) else -DAY) + n * timedelta(
        minutes=1)) for n in range(60)]
    with Item.batch_write() as batch:
        for inv in made:
            batch.save(invite_item(inv))

    # WHEN each list is asked for one item
    pages = {}
    for status in (None, "pending", "expired", "accepted", "declined", "revoked"):
        with dynamodb_calls() as calls:
            pages[status] = store.invitations.list("account", account.account_id, status, NOW, 1, None)
        # THEN each made exactly one Query
        assert calls == ["Query"], status

    assert ids(pages[None].items) == [made[59].invitation_id]
    assert ids(pages["pending"].items) == [made[40].invitation_id]
    assert ids(pages["expired"].items) == [made[59].invitation_id]
    assert (pages["revoked"].items, pages["revoked"].next_cursor) == ([], None)
    assert (pages["accepted"].items, pages["declined"].items) == ([], [])


def test_an_invitation_cursor_only_works_on_the_list_and_account_it_came_from(store):
    # GIVEN two accounts with invitations, and cursors of each list of the first
    account, _ = open_account(store)
    other, _ = open_account(store)
    for target in (account, other):
        for n in range(3):
            invite(store, target.account_id, expires_at=NOW + (n + 1) * DAY)
    cursors = {status: store.invitations.list("account", account.account_id, status, NOW, 1, None).next_cursor
               for status in (None, "pending")}
    assert all(cursors.values())
    second = store.invitations.list("account", account.account_id, None, NOW, 1, cursors[None])
    assert len(second.items) == 1  # the list it came from takes it

    # THEN another status's list, another account's same list, the member list, and changed cursors refuse it
    body, mac = cursors[None].split(".")
    tampered = [body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac,
                body + "." + mac[::-1], body, cursors[None] + ".x", "", "é.é"]
    with pytest.raises(ValidationFailed):
        store.invitations.list("account", account.account_id, "pending", NOW, 10, cursors[None])
    with pytest.raises(ValidationFailed):
        store.invitations.list("account", account.account_id, None, NOW, 10, cursors["pending"])
    with pytest.raises(ValidationFailed):
        store.invitations.list("account", other.account_id, None, NOW, 10, cursors[None])
    with pytest.raises(ValidationFailed):
        store.accounts.list_members(account.account_id, None, 10, cursors[None])
    for cursor in tampered:
        with pytest.raises(ValidationFailed):
            store.invitations.list("account", account.account_id, None, NOW, 10, cursor)


def test_an_accepted_invitation_and_its_link_say_accepted_and_it_leaves_the_open_lists(store):
    # GIVEN a pending invitation
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    assert inv.invitation_id in ids(store.invitations.pending_for_email(inv.email))

    # WHEN it is accepted
    accept(store, inv, NOW)

    # THEN the invitation and its link say so, and it is no longer pending anywhere
    got = store.invitations.get("account", account.account_id, inv.invitation_id)
    assert (got.status, got.responded_at) == ("accepted", NOW)
    assert store.invitations.by_token(inv.token_hash) == got
    assert store.invitations.pending_for_email(inv.email) == []
    assert store.invitations.list("account", account.account_id, "pending", NOW, 10, None).items == []
    assert inv.invitation_id not in ids(store.invitations.due(inv.expires_at + DAY, 10_000))


def test_an_invitation_is_not_accepted_after_its_expiry_nor_through_an_old_link(store):
    account, _ = open_account(store)
    expiring = invite(store, account.account_id, expires_at=NOW + DAY)
    resent_once = invite(store, account.account_id)
    current = resent(store, resent_once, NOW)

    with pytest.raises(Conflict):
        accept(store, expiring, NOW + 2 * DAY)
    with pytest.raises(Conflict):
        accept(store, resent_once, NOW)  # the link it was read through is not the current one

    assert store.invitations.get("account", account.account_id, expiring.invitation_id) == expiring
    assert store.invitations.by_token(expiring.token_hash) == expiring
    assert store.invitations.get("account", account.account_id, current.invitation_id) == current


def test_a_decline_through_a_link_that_is_not_the_current_one_changes_nothing(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id)

    with pytest.raises(Conflict):
        close(store, inv, "declined", NOW, token_hash=a_hash())

    assert store.invitations.get("account", account.account_id, inv.invitation_id) == inv
    assert seat(keys.account_pk(account.account_id), inv.email) == ("invited", inv.invitation_id, None)


def test_a_decline_closes_invitation_and_link_and_frees_the_seat(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id)

    close(store, inv, "declined", NOW, token_hash=inv.token_hash)

    got = store.invitations.get("account", account.account_id, inv.invitation_id)
    assert (got.status, got.responded_at) == ("declined", NOW)
    assert store.invitations.by_token(inv.token_hash) == got
    assert seat(keys.account_pk(account.account_id), inv.email) is None
    assert store.invitations.pending_for_email(inv.email) == []
    invite(store, account.account_id, email=inv.email)  # the email can be invited again


def test_a_revoke_needs_an_unexpired_invitation_and_an_expiry_needs_an_expired_one(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id, expires_at=NOW + DAY)

    with pytest.raises(Conflict):
        close(store, inv, "expired", NOW)  # not yet
    with pytest.raises(Conflict):
        close(store, inv, "revoked", NOW + 2 * DAY)  # too late: it has expired
    assert store.invitations.get("account", account.account_id, inv.invitation_id) == inv

    close(store, inv, "expired", NOW + 2 * DAY)
    got = store.invitations.get("account", account.account_id, inv.invitation_id)
    assert (got.status, got.responded_at) == ("expired", None)
    assert store.invitations.by_token(inv.token_hash).status == "expired"
    assert seat(keys.account_pk(account.account_id), inv.email) is None
    with pytest.raises(Conflict):
        close(store, got, "expired", NOW + 2 * DAY)  # once


def test_a_resend_moves_the_link_and_the_expiry_and_a_second_resend_from_the_same_read_is_refused(store):
    # GIVEN an invitation read once
    account, _ = open_account(store)
    inv = invite(store, account.account_id, expires_at=NOW + DAY)

    # WHEN it is resent twice from that read
    current = resent(store, inv, NOW + timedelta(hours=1))
    with pytest.raises(Conflict):
        resent(store, inv, NOW + timedelta(hours=2))

    # THEN the first resend stands: its link works, the old one and the refused one do not
    assert store.invitations.get("account", account.account_id, inv.invitation_id) == current
    assert store.invitations.by_token(current.token_hash) == current
    assert store.invitations.by_token(inv.token_hash) is None
    assert ids(store.invitations.list("account", account.account_id, "pending", NOW + 2 * DAY, 10, None).items) == [
        inv.invitation_id]


def test_a_swept_invitation_is_revived_by_a_resend_only_while_its_email_seat_is_free(store):
    # GIVEN two swept invitations; the email of one was invited again since
    account, _ = open_account(store)
    taken = invite(store, account.account_id, expires_at=NOW - DAY)
    free = invite(store, account.account_id, expires_at=NOW - DAY)
    for inv in (taken, free):
        close(store, inv, "expired", NOW)
    newer = invite(store, account.account_id, email=taken.email)
    swept_taken = store.invitations.get("account", account.account_id, taken.invitation_id)
    swept_free = store.invitations.get("account", account.account_id, free.invitation_id)

    # WHEN both are resent as revived
    with pytest.raises(InvitationPending) as raised:
        resent(store, swept_taken, NOW, revived=True)
    revived = resent(store, swept_free, NOW, revived=True)

    # THEN the one whose seat is held is unchanged and the refusal names the holder
    assert raised.value.holder == newer.invitation_id
    assert store.invitations.get("account", account.account_id, taken.invitation_id) == swept_taken
    assert store.invitations.by_token(taken.token_hash).status == "expired"
    # and the other is pending again, with its seat, in the pending list and due at its new expiry
    assert store.invitations.get("account", account.account_id, free.invitation_id) == revived
    assert seat(keys.account_pk(account.account_id), free.email) == ("invited", free.invitation_id, None)
    assert ids(store.invitations.pending_for_email(free.email)) == [free.invitation_id]
    assert free.invitation_id in ids(store.invitations.due(revived.expires_at + timedelta(seconds=1), 10_000))


def test_a_revoke_from_a_read_older_than_a_resend_leaves_no_link_out_of_step(store):
    # GIVEN an invitation read for a revoke, then resent by someone else
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    read_for_revoke = store.invitations.get("account", account.account_id, inv.invitation_id)
    current = resent(store, inv, NOW + timedelta(minutes=5))

    # WHEN the revoke is written from the older read (refused or not)
    with contextlib.suppress(Conflict):
        close(store, read_for_revoke, "revoked", NOW + timedelta(minutes=6))

    # THEN the current link says what the invitation says, and the old link's key holds nothing
    stored = store.invitations.get("account", account.account_id, inv.invitation_id)
    assert store.invitations.by_token(current.token_hash).status == stored.status
    assert table.batch_get([keys.token(inv.token_hash)]) == []


def test_due_returns_pending_invitations_past_expiry_from_every_shard_oldest_first(store):
    # GIVEN invitations that expired long before anything else in the table, over several accounts
    now = datetime(2001, 1, 1, tzinfo=timezone.utc)
    accounts = [open_account(store)[0] for _ in range(3)]
    due = [invite(store, accounts[n % 3].account_id, expires_at=now - timedelta(hours=n * 7 % 10 + 1))
           for n in range(10)]
    not_yet = invite(store, accounts[0].account_id, expires_at=now + DAY)
    accepted = invite(store, accounts[1].account_id, expires_at=now - timedelta(minutes=30))
    accept(store, accepted, now - timedelta(hours=2))
    swept = invite(store, accounts[2].account_id, expires_at=now - timedelta(minutes=20))
    close(store, swept, "expired", now)
    assert len({keys.due_shard(i.invitation_id) for i in due}) > 1

    # WHEN the due invitations are read
    found = store.invitations.due(now, 100)
    oldest = store.invitations.due(now, 3)

    # THEN exactly the pending ones past expiry came, oldest first, and a limit keeps the oldest
    by_expiry = sorted(due, key=lambda i: i.expires_at)
    assert ids(found) == ids(by_expiry)
    assert ids(oldest) == ids(by_expiry[:3])
    assert not_yet.invitation_id not in ids(store.invitations.due(now + DAY - timedelta(seconds=1), 100))


def test_pending_invitations_of_an_email_span_accounts_and_partners_newest_first(store):
    email = f"{IDS.new_id('mail')}@example.com"
    first, _ = open_account(store)
    second, _ = open_account(store)
    third, _ = open_account(store)
    partner_id = IDS.new_id("prt")
    one = invite(store, first.account_id, email=email)
    accepted = invite(store, third.account_id, email=email)
    accept(store, accepted, NOW)
    two = invite(store, second.account_id, email=email)
    three = invite(store, partner_id, email=email, target_type="partner", role="staff")

    found = store.invitations.pending_for_email(email)

    assert ids(found) == [three.invitation_id, two.invitation_id, one.invitation_id]
    assert found[0] == three and found[0].partner_id == partner_id
    assert ids(store.invitations.pending_for_email(email, limit=1)) == [three.invitation_id]


def test_record_send_marks_only_the_current_link_as_sent(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    current = resent(store, inv, NOW)

    store.invitations.record_send(inv, "sent")  # the mail of the old link, late
    assert store.invitations.get("account", account.account_id, inv.invitation_id).delivery_status == "queued"
    store.invitations.record_send(current, "sent")
    assert store.invitations.get("account", account.account_id, inv.invitation_id).delivery_status == "sent"


# partners ---------------------------------------------------------------------------------------------

def a_staff_member(partner_id: str, role: str = "staff") -> StaffMember:
    user_id = IDS.new_id("usr")
    return StaffMember(partner_id, user_id, role, email_of(user_id), NOW)


def open_partner(store: Store) -> tuple[Partner, StaffMember]:
    """A partner with its first admin, counted in the partner item itself (as the service writes it)."""
    partner = Partner(IDS.new_id("prt"), "Firm", NOW, admin_count=1)
    admin = a_staff_member(partner.partner_id, "partner_admin")
    with writing() as tx:
        store.partners.add(tx, partner)
        store.partners.add_staff(tx, admin, count_admin=False)
    return partner, admin


def add_staff(store: Store, partner_id: str, role: str = "staff") -> StaffMember:
    staff = a_staff_member(partner_id, role)
    with writing() as tx:
        store.partners.add_staff(tx, staff)
    return staff


def test_a_new_partner_is_written_with_its_first_admin_and_their_seat(store):
    partner, admin = open_partner(store)

    assert store.partners.get(partner.partner_id) == partner
    assert store.partners.get_staff(partner.partner_id, admin.user_id) == admin
    assert seat(keys.partner_pk(partner.partner_id), admin.email) == ("member", None, admin.user_id)
    assert store.partners.get_many([partner.partner_id, IDS.new_id("prt")]) == {partner.partner_id: partner}


def test_partner_admins_are_counted_and_staff_are_not(store):
    partner, _ = open_partner(store)

    add_staff(store, partner.partner_id, "partner_admin")
    staff = add_staff(store, partner.partner_id, "staff")

    assert store.partners.get(partner.partner_id).admin_count == 2
    with pytest.raises(AlreadyMember):
        with writing() as tx:
            store.partners.add_staff(tx, staff)
    with pytest.raises(AlreadyMember):
        invite(store, partner.partner_id, email=staff.email, target_type="partner", role="staff")


def test_an_admin_of_a_missing_partner_is_refused(store):
    with pytest.raises(Conflict):
        add_staff(store, IDS.new_id("prt"), "partner_admin")


def test_the_last_partner_admin_is_kept_and_any_other_staff_can_go(store):
    # GIVEN a partner with two admins and one staff member
    partner, first = open_partner(store)
    second = add_staff(store, partner.partner_id, "partner_admin")
    staff = add_staff(store, partner.partner_id, "staff")

    # WHEN the staff member and one admin are removed
    for leaving in (staff, first):
        with writing() as tx:
            store.partners.remove_staff(tx, leaving)
    # THEN they and their seats are gone, and one admin is counted
    assert [store.partners.get_staff(partner.partner_id, s.user_id) for s in (staff, first)] == [None, None]
    assert seat(keys.partner_pk(partner.partner_id), first.email) is None
    assert store.partners.get(partner.partner_id).admin_count == 1

    # WHEN the last admin is removed
    with pytest.raises(LastOwner):
        with writing() as tx:
            store.partners.remove_staff(tx, second)
    # THEN they stay
    assert store.partners.get_staff(partner.partner_id, second.user_id) == second
    assert seat(keys.partner_pk(partner.partner_id), second.email) == ("member", None, second.user_id)
    assert store.partners.get(partner.partner_id).admin_count == 1


def test_staff_are_listed_by_user_id_in_pages(store):
    partner, admin = open_partner(store)
    staff = [admin] + [add_staff(store, partner.partner_id) for _ in range(3)]

    found, sizes, calls = all_pages(lambda n, c: store.partners.list_staff(partner.partner_id, n, c), 3)

    assert found == sorted(staff, key=lambda s: s.user_id)
    assert all(made == ["Query"] for made in calls)
    assert sizes[0] == 3


# audit ------------------------------------------------------------------------------------------------

def test_audit_events_are_listed_newest_first_in_pages_whichever_way_they_were_added(store):
    # GIVEN events added in transactions (two in one) and on their own
    account, _ = open_account(store)
    events = [an_event("account", account.account_id, NOW + n * timedelta(seconds=1), n=n) for n in range(6)]
    with writing() as tx:
        store.audit.add(tx, events[0])
        store.audit.add(tx, events[1])
    store.audit.add_now(events[2])
    with writing() as tx:
        store.audit.add(tx, events[3])
    store.audit.add_now(events[4])
    store.audit.add_now(events[5])

    # WHEN all pages of four are read
    found, sizes, calls = all_pages(lambda n, c: store.audit.list("account", account.account_id, n, c), 4)

    # THEN every event came once, as written, newest first, each page one Query
    assert found == events[::-1]
    assert sizes[:2] == [4, 2]
    assert all(made == ["Query"] for made in calls)


def test_an_event_keeps_its_actor_its_details_and_the_partner_acted_for(store):
    partner, _ = open_partner(store)
    advisor = an_event("partner", partner.partner_id, action="client.viewed",
                       actor=Actor("usr_adv", "adv@example.com", acting_for=partner.partner_id), reason="review")
    system = an_event("partner", partner.partner_id, action="invitation.expired", actor=Actor.system_actor())

    store.audit.add_now(advisor)
    store.audit.add_now(system)

    assert store.audit.list("partner", partner.partner_id, 10, None).items == [system, advisor]


def test_account_and_partner_logs_are_separate_even_under_one_id(store):
    # GIVEN an account and a partner whose ids are the same text
    shared_id = IDS.new_id("shared")
    account_event, partner_event = an_event("account", shared_id), an_event("partner", shared_id)

    store.audit.add_now(account_event)
    store.audit.add_now(partner_event)

    assert store.audit.list("account", shared_id, 10, None).items == [account_event]
    assert store.audit.list("partner", shared_id, 10, None).items == [partner_event]


def test_an_audit_cursor_is_refused_by_another_log(store):
    account, _ = open_account(store)
    other, _ = open_account(store)
    for target in (account, other):
        for _ in range(2):
            store.audit.add_now(an_event("account", target.account_id))
    cursor = store.audit.list("account", account.account_id, 1, None).next_cursor
    assert store.audit.list("account", account.account_id, 1, cursor).items

    for target_type, target_id in (("account", other.account_id), ("partner", account.account_id)):
        with pytest.raises(ValidationFailed):
            store.audit.list(target_type, target_id, 10, cursor)


def test_an_event_id_is_written_once(store):
    account, _ = open_account(store)
    event = an_event("account", account.account_id)
    store.audit.add_now(event)

    with pytest.raises(PutError):
        store.audit.add_now(dataclasses.replace(event, action="account.closed"))

    assert store.audit.list("account", account.account_id, 10, None).items == [event]


# rates ------------------------------------------------------------------------------------------------

def test_consume_counts_up_to_the_limit_and_then_refuses_without_counting(store):
    key, window = IDS.new_id("login"), NOW

    taken = [store.rates.consume(key, window, window + timedelta(minutes=30), limit=3) for _ in range(5)]

    assert taken == [True, True, True, False, False]
    assert store.rates.counts([key], window) == {key: 3}
    next_window = window + timedelta(minutes=15)
    assert store.rates.consume(key, next_window, next_window + timedelta(minutes=30), limit=3)
    assert store.rates.counts([key], next_window) == {key: 1}


def test_a_charge_in_a_unit_of_work_counts_only_when_it_commits(store):
    key, window, expires = IDS.new_id("invite"), NOW, NOW + DAY
    account, _ = open_account(store)

    with writing() as tx:
        store.rates.charge(tx, key, window, expires, limit=2, retry_after=60)
        store.invitations.add(tx, an_invitation(account.account_id))

    assert store.rates.counts([key], window) == {key: 1}


def test_a_charge_over_the_limit_is_rate_limited_with_its_retry_after_and_writes_nothing_else(store):
    # GIVEN a full window
    key, window, expires = IDS.new_id("invite"), NOW, NOW + DAY
    assert store.rates.consume(key, window, expires, limit=1)
    account, _ = open_account(store)
    inv = an_invitation(account.account_id)
    event = an_event("account", account.account_id)

    # WHEN an invitation is written with a charge of that window
    with pytest.raises(RateLimited) as raised:
        with writing() as tx:
            store.invitations.add(tx, inv)
            store.audit.add(tx, event)
            store.rates.charge(tx, key, window, expires, limit=1, retry_after=1234)

    # THEN the refusal carries the wait given, and no part of the transaction was written
    assert raised.value.retry_after == 1234
    assert store.invitations.get("account", account.account_id, inv.invitation_id) is None
    assert store.invitations.by_token(inv.token_hash) is None
    assert seat(keys.account_pk(account.account_id), inv.email) is None
    assert store.audit.list("account", account.account_id, 10, None).items == []
    assert store.rates.counts([key], window) == {key: 1}


def test_counts_of_several_keys_come_in_one_batch_and_unused_keys_are_left_out(store):
    window = NOW
    a, b, unused = IDS.new_id("a"), IDS.new_id("b"), IDS.new_id("unused")
    for key, hits in ((a, 2), (b, 1)):
        for _ in range(hits):
            store.rates.consume(key, window, window + DAY, limit=10)

    with dynamodb_calls() as calls:
        counts = store.rates.counts([a, b, unused], window)

    assert counts == {a: 2, b: 1}
    assert calls == ["BatchGetItem"]
    assert store.rates.counts([a], window + timedelta(hours=1)) == {}


# store: reads across aggregates -----------------------------------------------------------------------

def test_account_access_reads_account_membership_and_profile_in_one_batch(store):
    user, stranger = add_user(store), add_user(store)
    account, owner = open_account(store, owner_id=user.user_id)
    missing_account = IDS.new_id("acc")

    with dynamodb_calls() as calls:
        mine = store.account_access(account.account_id, user.user_id)

    assert calls == ["BatchGetItem"]
    assert mine == (account, owner, user, {})
    assert store.account_access(account.account_id, stranger.user_id) == (account, None, stranger, {})
    assert store.account_access(missing_account, user.user_id) == (None, None, user, {})
    # an address looked up in the same call: whether it has a user
    with dynamodb_calls() as calls:
        known = store.account_access(account.account_id, user.user_id, stranger.email)
        unknown = store.account_access(account.account_id, user.user_id, "nobody-here@example.com")
    assert calls == ["BatchGetItem", "BatchGetItem"]
    assert known == (account, owner, user, {stranger.email: True})
    assert unknown[3] == {"nobody-here@example.com": False}


def test_partner_access_reads_partner_staff_membership_and_profile_in_one_batch(store):
    partner, _ = open_partner(store)
    user = add_user(store)
    staff = StaffMember(partner.partner_id, user.user_id, "staff", user.email, NOW)
    with writing() as tx:
        store.partners.add_staff(tx, staff)
    outsider = add_user(store)

    with dynamodb_calls() as calls:
        mine = store.partner_access(partner.partner_id, user.user_id)

    assert calls == ["BatchGetItem"]
    assert mine == (partner, staff, user, {})
    assert store.partner_access(partner.partner_id, outsider.user_id) == (partner, None, outsider, {})
    assert store.partner_access(IDS.new_id("prt"), user.user_id) == (None, None, user, {})
    assert store.partner_access(partner.partner_id, user.user_id, outsider.email)[3] == {outsider.email: True}


def test_things_of_an_email_are_its_memberships_staff_roles_and_pending_invitations_in_one_query(store):
    # GIVEN a person who owns an account, is a member of another, staff of a partner, invited to a third
    # account (pending) and a fourth (accepted)
    _, owner = open_account(store)
    email = owner.email
    joined, _ = open_account(store)
    membership = add_member(store, joined.account_id, "collaborator", owner.user_id)
    partner, _ = open_partner(store)
    staff = StaffMember(partner.partner_id, owner.user_id, "staff", email, NOW)
    with writing() as tx:
        store.partners.add_staff(tx, staff)
    invited, _ = open_account(store)
    pending = invite(store, invited.account_id, email=email)
    done, _ = open_account(store)
    accepted = invite(store, done.account_id, email=email)
    accept(store, accepted, NOW)

    # WHEN they are read
    with dynamodb_calls() as calls:
        members, staff_roles, invitations = store.things_of_email(email)

    # THEN one Query brought each kind, and nothing else
    assert calls == ["Query"]
    assert sorted(members, key=lambda m: m.account_id) == sorted([owner, membership], key=lambda m: m.account_id)
    assert staff_roles == [staff]
    assert invitations == [pending]


def test_a_link_and_the_callers_count_of_unknown_links_come_in_one_batch(store):
    account, _ = open_account(store)
    inv = invite(store, account.account_id)
    key, window = IDS.new_id("lookup"), NOW
    for _ in range(2):
        store.rates.consume(key, window, window + timedelta(minutes=1), limit=30)

    with dynamodb_calls() as calls:
        found = store.link_and_count(inv.token_hash, key, window)

    assert calls == ["BatchGetItem"]
    assert found == (inv, 2)
    assert store.link_and_count(a_hash(), key, window) == (None, 2)
    assert store.link_and_count(inv.token_hash, IDS.new_id("lookup"), window) == (inv, 0)


def test_accounts_and_partners_come_by_id_in_one_batch(store):
    account, _ = open_account(store)
    partner, _ = open_partner(store)

    with dynamodb_calls() as calls:
        accounts, partners = store.accounts_and_partners([account.account_id, IDS.new_id("acc")],
                                                         [partner.partner_id])

    assert calls == ["BatchGetItem"]
    assert (accounts, partners) == ({account.account_id: account}, {partner.partner_id: partner})
