"""The unit of work: failed conditions are named in the order PynamoDB sends them, become domain errors by
the ERRORS table (an operation's own error first), conflicts are retried, and nothing is sent when empty.

Ordering, mapping and retries run on a stand-in for PynamoDB's TransactWrite; the mappings that matter
are checked again on real cancelled transactions (moto, the module's `table`)."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import ClassVar

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.adapters.dynamo import unit_of_work
from chalicelib.adapters.dynamo.unit_of_work import UnitOfWork
from chalicelib.domain.errors import (AlreadyMember, AuthorizedUserLimit, Conflict, InvalidState, InvitationPending,
                                      LastOwner, RateLimited, UserExists)
from chalicelib.domain.invitations import Invitation
from chalicelib.domain.model import Account, Membership, Partner, StaffMember, User
from tests.dynamo_calls import dynamodb_calls
from tests.fakes import START, FakeSecrets, make_deps

CONDITION = "a condition"  # the stand-in never evaluates it; only whether there is one matters


# a stand-in for pynamodb.transactions.TransactWrite ------------------------------------------------

def cancelled(*reasons, code: str = "TransactionCanceledException") -> TransactWriteError:
    """A cancelled transaction as PynamoDB raises it: one reason per sent operation (None: it was fine).
    A reason is a code, or (code, the old item DynamoDB returned)."""
    parsed = []
    for reason in reasons:
        if reason is None:
            parsed.append(None)
        else:
            reason_code, old = reason if isinstance(reason, tuple) else (reason, None)
            parsed.append(CancellationReason(code=reason_code, message="refused", raw_item=old))
    cause = VerboseClientError({"Error": {"Code": code, "Message": "cancelled"}}, "TransactWriteItems",
                               cancellation_reasons=parsed)
    return TransactWriteError("Failed to write transaction items", cause)


class FakeTransactWrite:
    """Records what each attempt sends, in the order it is added, and fails attempts with the queued errors."""

    errors: ClassVar[list] = []
    attempts: ClassVar[list] = []  # per attempt: {"token": ..., "sent": [(kind, item, return_values), ...]}

    def __init__(self, connection=None, client_request_token=None, **_):
        self.attempt = {"connection": connection, "token": client_request_token, "sent": []}

    def __enter__(self):
        FakeTransactWrite.attempts.append(self.attempt)
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None and FakeTransactWrite.errors:
            raise FakeTransactWrite.errors.pop(0)
        return False

    def condition_check(self, model, hash_key, range_key=None, condition=None):
        self.attempt["sent"].append(("check", hash_key, None))

    def delete(self, item, condition=None):
        self.attempt["sent"].append(("delete", item, None))

    def save(self, item, condition=None, return_values=None):
        self.attempt["sent"].append(("put", item, return_values))

    def update(self, item, actions, condition=None, return_values=None):
        self.attempt["sent"].append(("update", item, return_values))


@pytest.fixture
def fake(monkeypatch):
    """TransactWrite replaced (unit_of_work imports it inside commit), no table needed, sleeps recorded."""
    import pynamodb.transactions

    FakeTransactWrite.errors, FakeTransactWrite.attempts = [], []
    monkeypatch.setattr(pynamodb.transactions, "TransactWrite", FakeTransactWrite)
    monkeypatch.setattr(unit_of_work.connection, "connection", lambda: "the shared connection")
    slept: list[float] = []
    monkeypatch.setattr(unit_of_work.time, "sleep", slept.append)
    FakeTransactWrite.slept = slept
    return FakeTransactWrite


def one_of_each_called_backwards() -> UnitOfWork:
    """Called update, put, delete, check; PynamoDB sends check, delete, put, update."""
    return (UnitOfWork()
            .update("slot.take", "account item", [], condition=CONDITION)
            .put("user.email", "email item", condition=CONDITION)
            .delete("partner.admins", "member item", condition=CONDITION)
            .check("account.open", "model", "ACCOUNT#a", "ACCOUNT", CONDITION))


def open_account_item(status: str = "active") -> dict:
    return {"pk": {"S": "ACCOUNT#a"}, "sk": {"S": "ACCOUNT"}, "status": {"S": status},
            "authorized_user_slots": {"N": "2"}}


def seat_item(state: str, invitation_id: str | None = None) -> dict:
    item = {"pk": {"S": "ACCOUNT#a"}, "sk": {"S": "SEAT#ada@example.com"}, "state": {"S": state}}
    if invitation_id:
        item["invitation_id"] = {"S": invitation_id}
    return item


# order -----------------------------------------------------------------------------------------------

def test_operations_are_named_and_sent_checks_first_then_deletes_puts_and_updates_whatever_the_call_order(fake):
    # GIVEN a unit of work whose operations were called in the reverse of the order PynamoDB sends
    tx = one_of_each_called_backwards()

    # WHEN it commits
    tx.commit()

    # THEN names and what was sent are both in send order, all in one transaction
    assert tx.names() == ["account.open", "partner.admins", "user.email", "slot.take"]
    assert len(fake.attempts) == 1
    assert [kind for kind, _, _ in fake.attempts[0]["sent"]] == ["check", "delete", "put", "update"]
    assert [item for _, item, _ in fake.attempts[0]["sent"]] == ["ACCOUNT#a", "member item", "email item",
                                                                  "account item"]
    assert fake.attempts[0]["connection"] == "the shared connection"


@pytest.mark.parametrize("position, expected", [
    (0, InvalidState),          # the check, "account.open"
    (1, LastOwner),             # the delete, "partner.admins"
    (2, UserExists),            # the put, "user.email"
    (3, AuthorizedUserLimit),   # the update, "slot.take" on an open account
])
def test_a_failed_condition_is_named_by_its_place_in_send_order_not_in_call_order(fake, position, expected):
    # GIVEN DynamoDB reports exactly one failed condition, at a position of the sent list
    reasons = [None] * 4
    reasons[position] = ("ConditionalCheckFailed", open_account_item() if position == 3 else None)
    fake.errors = [cancelled(*reasons)]

    # WHEN the unit of work called in the other order commits
    with pytest.raises(expected):
        one_of_each_called_backwards().commit()

    # THEN (above) the error is the one of the operation sent at that position, and nothing was retried
    assert len(fake.attempts) == 1


def test_the_number_of_operations_counts_every_kind(fake):
    assert len(UnitOfWork()) == 0
    assert len(one_of_each_called_backwards()) == 4


# mapping ---------------------------------------------------------------------------------------------

def test_the_seat_condition_is_already_member_when_a_member_holds_the_seat(fake):
    fake.errors = [cancelled(("ConditionalCheckFailed", seat_item("member")))]

    with pytest.raises(AlreadyMember):
        UnitOfWork().put("seat", "seat item", condition=CONDITION).commit()


def test_the_seat_condition_is_invitation_pending_naming_the_invitation_that_holds_the_seat(fake):
    fake.errors = [cancelled(("ConditionalCheckFailed", seat_item("invited", "inv_holder")))]

    with pytest.raises(InvitationPending) as raised:
        UnitOfWork().put("seat", "seat item", condition=CONDITION).commit()

    assert raised.value.holder == "inv_holder"


def test_the_seat_condition_without_the_old_item_is_invitation_pending_with_no_holder(fake):
    fake.errors = [cancelled("ConditionalCheckFailed")]

    with pytest.raises(InvitationPending) as raised:
        UnitOfWork().put("seat", "seat item", condition=CONDITION).commit()

    assert raised.value.holder is None


def test_taking_a_slot_of_a_closed_account_is_invalid_state_and_of_an_open_full_one_the_limit(fake):
    fake.errors = [cancelled(("ConditionalCheckFailed", open_account_item("closed"))),
                   cancelled(("ConditionalCheckFailed", open_account_item("active")))]

    with pytest.raises(InvalidState) as closed:
        UnitOfWork().update("slot.take", "account item", [], condition=CONDITION).commit()
    with pytest.raises(AuthorizedUserLimit):
        UnitOfWork().update("slot.take", "account item", [], condition=CONDITION).commit()

    assert not isinstance(closed.value, Conflict)
    assert "closed" in closed.value.message


def test_conditional_puts_and_updates_ask_for_the_old_item_and_unconditional_ones_do_not(fake):
    (UnitOfWork().put("seat", "conditional put", condition=CONDITION).put("plain", "plain put")
     .update("slot.take", "conditional update", [], condition=CONDITION).update("plain", "plain update", [])
     .commit())

    assert [(item, returns) for _, item, returns in fake.attempts[0]["sent"]] == [
        ("conditional put", "ALL_OLD"), ("plain put", None), ("conditional update", "ALL_OLD"),
        ("plain update", None)]


@pytest.mark.parametrize("first_sent, second_sent, old_of_second, expected", [
    # (condition sent first, condition sent second, the old item of the second) -> what the caller sees
    ("slot.take", "seat", seat_item("invited", "inv_1"), InvitationPending),   # seat outranks slot.take
    ("seat", "account.open", None, InvalidState),                              # a closed account outranks all
    ("member.new", "user.email", None, UserExists),
    ("partner.admins", "slot.take", open_account_item("active"), AuthorizedUserLimit),
    ("partner.admins", "staff.new", None, AlreadyMember),
])
def test_when_several_conditions_fail_the_first_in_the_errors_table_wins_not_the_first_sent(
        fake, first_sent, second_sent, old_of_second, expected):
    # GIVEN two failed conditions; the one listed first in ERRORS is sent second (both as checks)
    fake.errors = [cancelled(("ConditionalCheckFailed", None), ("ConditionalCheckFailed", old_of_second))]
    tx = UnitOfWork().check(first_sent, "model", "k1", "s", CONDITION).check(second_sent, "model", "k2", "s", CONDITION)

    # WHEN it commits
    # THEN the higher-ranked condition's error is raised
    with pytest.raises(expected):
        tx.commit()


def test_failed_conditions_with_no_entry_in_the_table_are_a_conflict(fake):
    fake.errors = [cancelled("ConditionalCheckFailed", None, "ConditionalCheckFailed")]

    with pytest.raises(Conflict) as raised:
        (UnitOfWork().check("invite.state", "model", "k", "s", CONDITION).delete("seat.free", "seat item")
         .put("audit.2", "event item", condition=CONDITION).commit())

    assert type(raised.value) is Conflict
    assert len(fake.attempts) == 1


def test_an_operations_own_error_wins_over_the_errors_table_and_is_given_its_old_item(fake):
    # GIVEN a transaction where both a named condition ("account.open") and a rate charge fail
    given_old = []

    def limited(old):
        given_old.append(old)
        return RateLimited(42)

    counter = {"pk": {"S": "RATE#k#1"}, "sk": {"S": "RATE"}, "hits": {"N": "5"}}
    fake.errors = [cancelled("ConditionalCheckFailed", ("ConditionalCheckFailed", counter))]
    tx = (UnitOfWork().update("rate:k", "counter item", [], condition=CONDITION, on_fail=limited)
          .check("account.open", "model", "ACCOUNT#a", "ACCOUNT", CONDITION))

    # WHEN it commits
    with pytest.raises(RateLimited) as raised:
        tx.commit()

    # THEN the operation's own error comes out, built from the counter as it was
    assert raised.value.retry_after == 42
    assert given_old == [counter]


def test_an_operations_own_error_is_used_only_when_that_operation_failed(fake):
    # the put is sent first: only it failed, the charge with its own error had room
    fake.errors = [cancelled(("ConditionalCheckFailed", seat_item("member")), None)]
    tx = (UnitOfWork().put("seat", "seat item", condition=CONDITION)
          .update("rate:k", "counter item", [], condition=CONDITION, on_fail=lambda _: RateLimited(42)))

    with pytest.raises(AlreadyMember):
        tx.commit()


# retries ---------------------------------------------------------------------------------------------

@pytest.fixture
def jitter(monkeypatch):
    """Every random.uniform the retry draws, and the value it returned."""
    drawn: list[tuple[float, float, float]] = []

    def uniform(low, high):
        value = (low + high) / 3
        drawn.append((low, high, value))
        return value

    monkeypatch.setattr(unit_of_work.random, "uniform", uniform)
    return drawn


def test_a_transaction_conflict_is_retried_after_a_random_pause_then_succeeds(fake, jitter):
    # GIVEN two attempts that collide with another transaction
    fake.errors = [cancelled(None, "TransactionConflict"), cancelled("TransactionConflict", None)]
    tx = UnitOfWork().put("a", "item a").update("b", "item b", [])

    # WHEN it commits
    tx.commit()

    # THEN the third attempt went through, each retry sent everything again with its own request token
    assert len(fake.attempts) == 3
    assert all(a["sent"] == fake.attempts[0]["sent"] for a in fake.attempts)
    tokens = [a["token"] for a in fake.attempts]
    assert all(tokens) and len(set(tokens)) == 3
    # and it paused before each retry for a random time from zero, the range growing
    assert fake.slept == [value for _, _, value in jitter]
    assert len(jitter) == 2
    assert all(low == 0 < high for low, high, _ in jitter)
    assert jitter[0][1] < jitter[1][1]


def test_conflicts_are_retried_up_to_the_attempt_limit_and_then_raised(fake, jitter):
    last = cancelled("TransactionConflict")
    fake.errors = [cancelled("TransactionConflict"), cancelled("TransactionConflict"), last,
                   cancelled("TransactionConflict")]

    with pytest.raises(TransactWriteError) as raised:
        UnitOfWork().put("a", "item a").commit(attempts=3)

    assert raised.value is last
    assert len(fake.attempts) == 3
    assert len(fake.slept) == 2  # no pause after the last attempt
    assert len(fake.errors) == 1  # the fourth error was never reached


@pytest.mark.parametrize("error", [
    cancelled(None, "ThrottlingError"),
    cancelled(code="TransactionInProgressException"),
    cancelled(code="TransactionConflictException"),
], ids=["throttled item", "in progress", "conflict without reasons"])
def test_throttling_and_transactions_in_progress_are_retried_too(fake, jitter, error):
    fake.errors = [error]

    UnitOfWork().put("a", "item a").put("b", "item b").commit()

    assert len(fake.attempts) == 2


def test_a_failed_condition_is_never_retried_even_when_another_operation_conflicted(fake, jitter):
    fake.errors = [cancelled("TransactionConflict", ("ConditionalCheckFailed", seat_item("member")))]

    with pytest.raises(AlreadyMember):
        UnitOfWork().put("other", "item").put("seat", "seat item", condition=CONDITION).commit()

    assert len(fake.attempts) == 1 and fake.slept == []


def test_other_failures_are_raised_at_once(fake, jitter):
    invalid = cancelled(code="ValidationException")
    fake.errors = [invalid]

    with pytest.raises(TransactWriteError) as raised:
        UnitOfWork().put("a", "item a").commit()

    assert raised.value is invalid
    assert len(fake.attempts) == 1 and fake.slept == []


def test_an_empty_unit_of_work_commits_nothing(fake):
    UnitOfWork().commit()

    assert fake.attempts == []


# real cancelled transactions (moto) -------------------------------------------------------------------

IDS = FakeSecrets()




def open_account(store, slots: int = 0, status: str = "active") -> tuple[Account, Membership]:
    account_id, owner_id = IDS.new_id("acc"), IDS.new_id("usr")
    account = Account(account_id, "Household", "personal", START, owner_ids=[owner_id], authorized_user_slots=slots,
                      status=status)
    owner = Membership(account_id, owner_id, "owner", "active", START, email=f"{owner_id}@example.com")
    tx = UnitOfWork()
    store.accounts.add(tx, account, owner)
    tx.commit()
    return account, owner


def an_invitation(account_id: str, email: str, role: str = "guest") -> Invitation:
    invitation_id = IDS.new_id("inv")
    return Invitation(invitation_id=invitation_id, target_type="account", email=email, role=role, status="pending",
                      invited_by_user_id="usr_inviter", invited_by_name="Inviter", created_at=START,
                      expires_at=START + timedelta(days=30), account_id=account_id,
                      token_hash=hashlib.sha256(IDS.token().encode()).hexdigest())


@pytest.fixture
def store(table):
    return make_deps().store


def test_on_the_table_a_seat_held_by_a_member_is_already_member_and_nothing_is_written(store):
    # GIVEN an account: its owner holds the owner's email seat
    account, owner = open_account(store)
    inv = an_invitation(account.account_id, owner.email)

    # WHEN the owner's email is invited
    tx = UnitOfWork()
    store.invitations.add(tx, inv)
    with pytest.raises(AlreadyMember):
        tx.commit()

    # THEN no part of the transaction was written
    assert store.invitations.get("account", account.account_id, inv.invitation_id) is None
    assert store.invitations.by_token(inv.token_hash) is None


def test_on_the_table_a_seat_held_by_an_invitation_names_that_invitation(store):
    account, _ = open_account(store)
    first = an_invitation(account.account_id, "twice@example.com")
    tx = UnitOfWork()
    store.invitations.add(tx, first)
    tx.commit()

    second = an_invitation(account.account_id, "twice@example.com")
    tx = UnitOfWork()
    store.invitations.add(tx, second)
    with pytest.raises(InvitationPending) as raised:
        tx.commit()

    assert raised.value.holder == first.invitation_id
    assert store.invitations.get("account", account.account_id, second.invitation_id) is None


def test_on_the_table_taking_a_slot_of_a_closed_account_is_invalid_state(store):
    account, _ = open_account(store, status="closed")

    tx = UnitOfWork()
    store.accounts.take_slot(tx, account.account_id)
    with pytest.raises(InvalidState) as raised:
        tx.commit()

    assert type(raised.value) is InvalidState
    assert store.accounts.get(account.account_id).authorized_user_slots == 0


def test_on_the_table_taking_a_slot_of_an_open_full_account_is_the_limit(store):
    account, _ = open_account(store, slots=2)

    tx = UnitOfWork()
    store.accounts.take_slot(tx, account.account_id)
    with pytest.raises(AuthorizedUserLimit):
        tx.commit()

    assert store.accounts.get(account.account_id).authorized_user_slots == 2


def test_on_the_table_a_pending_seat_outranks_a_full_account_whatever_the_call_order(store):
    # GIVEN a full account whose pending invitation holds an email's seat
    account, _ = open_account(store, slots=2)
    holder = an_invitation(account.account_id, "au@example.com", role="authorized_user")
    tx = UnitOfWork()
    store.invitations.add(tx, holder)
    tx.commit()

    # WHEN the slot is asked for before the seat, and both fail
    again = an_invitation(account.account_id, "au@example.com", role="authorized_user")
    tx = UnitOfWork()
    store.accounts.take_slot(tx, account.account_id)
    store.invitations.add(tx, again)

    # THEN the seat's error names the holder
    with pytest.raises(InvitationPending) as raised:
        tx.commit()
    assert raised.value.holder == holder.invitation_id


def test_on_the_table_a_taken_email_is_user_exists(store):
    email = f"{IDS.new_id('mail')}@example.com"
    first, second = (User(IDS.new_id("usr"), email, "Ada", "Lovelace", START) for _ in range(2))
    tx = UnitOfWork()
    store.users.add(tx, first)
    tx.commit()

    tx = UnitOfWork()
    store.users.add(tx, second)
    with pytest.raises(UserExists):
        tx.commit()

    assert store.users.get(second.user_id) is None
    assert store.users.id_for_email(email) == first.user_id


def test_on_the_table_a_charge_counts_only_with_its_transaction_and_a_full_window_is_its_own_error(store):
    # GIVEN a closed account
    account, _ = open_account(store, status="closed")
    window = START
    key = IDS.new_id("rate")

    # WHEN the account is required open in a transaction with a rate charge that has room
    tx = UnitOfWork()
    store.accounts.require_open(tx, account.account_id)
    store.rates.charge(tx, key, window, window + timedelta(hours=1), limit=1, retry_after=30)
    with pytest.raises(InvalidState):
        tx.commit()
    # THEN the charge was not counted
    assert store.rates.counts([key], window) == {}

    # WHEN the window is full as well
    assert store.rates.consume(key, window, window + timedelta(hours=1), limit=1)
    tx = UnitOfWork()
    store.accounts.require_open(tx, account.account_id)
    store.rates.charge(tx, key, window, window + timedelta(hours=1), limit=1, retry_after=30)
    # THEN the operation's own error wins
    with pytest.raises(RateLimited) as raised:
        tx.commit()
    assert raised.value.retry_after == 30
    assert store.rates.counts([key], window) == {key: 1}


def test_on_the_table_the_last_partner_admin_is_last_owner(store):
    partner = Partner(IDS.new_id("prt"), "Firm", START, admin_count=1)  # its first admin counted in it
    admin_id = IDS.new_id("usr")
    admin = StaffMember(partner.partner_id, admin_id, "partner_admin", f"{admin_id}@example.com", START)
    tx = UnitOfWork()
    store.partners.add(tx, partner)
    store.partners.add_staff(tx, admin, count_admin=False)
    tx.commit()

    tx = UnitOfWork()
    store.partners.remove_staff(tx, admin)
    with pytest.raises(LastOwner):
        tx.commit()

    assert store.partners.get_staff(partner.partner_id, admin_id) is not None


def test_on_the_table_an_empty_unit_of_work_makes_no_call(store):
    with dynamodb_calls() as calls:
        UnitOfWork().commit()

    assert calls == []


def test_on_the_table_a_unit_of_work_is_one_transact_write_items_call(store):
    account, _ = open_account(store)
    inv = an_invitation(account.account_id, "one-call@example.com")

    with dynamodb_calls() as calls:
        tx = UnitOfWork()
        store.accounts.require_open(tx, account.account_id)
        store.invitations.add(tx, inv)
        tx.commit()

    assert calls == ["TransactWriteItems"]
    assert store.invitations.by_token(inv.token_hash).invitation_id == inv.invitation_id
