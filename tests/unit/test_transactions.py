"""The Transaction helper: failed conditions are named in the order PynamoDB sends them, and conflicts retry."""
from __future__ import annotations

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.adapters import transactions
from chalicelib.adapters.transactions import Failed, Transaction


def _cancelled(*codes):
    reasons = [CancellationReason(code=c) if c else None for c in codes]
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("cancelled", cause)


class FakeTransactWrite:
    """Stands in for PynamoDB's TransactWrite: raises the queued errors one commit at a time."""

    errors: list = []
    commits = 0

    def __init__(self, connection=None):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        FakeTransactWrite.commits += 1
        if FakeTransactWrite.errors:
            raise FakeTransactWrite.errors.pop(0)
        return False

    def condition_check(self, *a, **k): pass
    def delete(self, *a, **k): pass
    def save(self, *a, **k): pass
    def update(self, *a, **k): pass


@pytest.fixture
def fake(monkeypatch):
    FakeTransactWrite.errors, FakeTransactWrite.commits = [], 0
    monkeypatch.setattr(transactions, "TransactWrite", FakeTransactWrite)
    monkeypatch.setattr(transactions, "connection", lambda: None)
    monkeypatch.setattr(transactions.time, "sleep", lambda s: None)
    return FakeTransactWrite


def _tx():
    # Called in this order: update, put, check, delete. Sent: check, delete, put, update.
    return (Transaction().update("slot", None, []).put("invite", None).check("member", None, "k", "s", None)
            .delete("pending", None))


def test_reasons_are_matched_to_names_in_send_order_not_call_order(fake):
    assert _tx().names() == ["member", "pending", "invite", "slot"]
    fake.errors = [_cancelled(None, None, None, "ConditionalCheckFailed")]
    with pytest.raises(Failed) as failed:
        _tx().commit()
    assert failed.value.names == {"slot"}


def test_a_conflict_with_another_transaction_is_retried_then_succeeds(fake):
    fake.errors = [_cancelled("TransactionConflict", None, None, None)] * 2
    _tx().commit()
    assert fake.commits == 3


def test_conflicts_give_up_after_the_last_attempt(fake):
    fake.errors = [_cancelled("TransactionConflict", None, None, None)] * 4
    with pytest.raises(TransactWriteError):
        _tx().commit(attempts=4)
    assert fake.commits == 4


def test_a_failed_condition_is_never_retried(fake):
    fake.errors = [_cancelled("ConditionalCheckFailed", None, None, None)]
    with pytest.raises(Failed):
        _tx().commit()
    assert fake.commits == 1
