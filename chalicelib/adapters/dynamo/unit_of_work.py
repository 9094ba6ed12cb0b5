"""The unit of work: repositories add their writes and named conditions; the service commits once.

PynamoDB sends condition checks, then deletes, then puts, then updates, whatever the call order;
DynamoDB's cancellation reasons follow the sent order, so names are kept in that order too. A failed
condition becomes the domain error the table below gives its name (or the error the operation brought).
"""
from __future__ import annotations

import random
import time
import uuid
from typing import Callable

from ...domain.errors import (AlreadyMember, AuthorizedUserLimit, Conflict, DomainError, InvalidMfaCode, InvalidState,
                              InvitationPending, LastOwner, MfaSessionExpired, RowChanged, UserExists)
from . import connection

_ORDER = ("check", "delete", "put", "update")
ErrorFor = Callable[[dict | None], DomainError]


def _state(old: dict | None, attribute: str) -> str | None:
    return ((old or {}).get(attribute) or {}).get("S")


def _seat(old: dict | None) -> DomainError:
    """Someone already holds this email's place: a member, or a pending invitation (named, so that an
    invitation that has expired but not been swept yet can be expired on the spot)."""
    if _state(old, "state") == "member":
        return AlreadyMember()
    return InvitationPending(holder=_state(old, "invitation_id"))


def _slot(old: dict | None) -> DomainError:
    if old is not None and _state(old, "status") != "active":
        return InvalidState("This account is closed.")
    return AuthorizedUserLimit()


# Condition name -> the domain error its failure means. When several fail, the first listed wins.
ERRORS: dict[str, ErrorFor] = {
    "account.open": lambda _: InvalidState("This account is closed."),
    "account.version": lambda old: (InvalidState("This account is closed.") if _state(old, "status") == "closed"
                                    else Conflict()),
    "user.email": lambda _: UserExists(),
    "seat": _seat,
    "member.new": lambda _: AlreadyMember(),
    "staff.new": lambda _: AlreadyMember(),
    "slot.take": _slot,
    "partner.admins": lambda _: LastOwner("A partner keeps at least one partner admin."),
    "client.version": lambda _: RowChanged(),
    "member.state": lambda _: InvalidState("The member's role or status changed meanwhile; reload and try again."),
    "application.editable": lambda _: InvalidState("This application was submitted already and can no longer be "
                                                   "changed."),
    "application.draft": lambda _: InvalidState("Save the application before submitting it."),
    "application.in_review": lambda _: InvalidState("Only an application in review can be decided."),
    "token.unused": lambda _: MfaSessionExpired(),  # the sign-in step a code answers was completed already
    "user.recovery_code": lambda _: InvalidMfaCode("This recovery code is not valid: it was used already, was "
                                                   "replaced by a newer set, or is not one of yours."),
    "user.mfa_on": lambda _: InvalidState("No authenticator app is on for this login: add one first."),
}


class UnitOfWork:
    """One TransactWriteItems. Every operation has a name; `commit` maps failed names to domain errors."""

    def __init__(self) -> None:
        self._ops: dict[str, list] = {k: [] for k in _ORDER}

    def __len__(self) -> int:
        return sum(len(v) for v in self._ops.values())

    def check(self, name: str, model, hash_key: str, range_key: str, condition, on_fail: ErrorFor | None = None):
        self._ops["check"].append((name, on_fail, lambda tx: tx.condition_check(model, hash_key, range_key,
                                                                                condition=condition)))
        return self

    def delete(self, name: str, item, condition=None, on_fail: ErrorFor | None = None):
        self._ops["delete"].append((name, on_fail, lambda tx: tx.delete(item, condition=condition)))
        return self

    def put(self, name: str, item, condition=None, on_fail: ErrorFor | None = None):
        returns = "ALL_OLD" if condition is not None else None
        self._ops["put"].append((name, on_fail, lambda tx: tx.save(item, condition=condition, return_values=returns)))
        return self

    def update(self, name: str, item, actions: list, condition=None, on_fail: ErrorFor | None = None):
        returns = "ALL_OLD" if condition is not None else None
        self._ops["update"].append((name, on_fail, lambda tx: tx.update(item, actions=actions, condition=condition,
                                                                         return_values=returns)))
        return self

    def names(self) -> list[str]:
        return [name for kind in _ORDER for name, _, _ in self._ops[kind]]

    def commit(self, attempts: int = 4) -> None:
        """Write everything or nothing. Conflicts with other transactions are retried with jitter."""
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        if not len(self):
            return
        ops = [op for kind in _ORDER for op in self._ops[kind]]
        for attempt in range(attempts):
            try:
                # The request token makes botocore's own retry of a lost response idempotent.
                with TransactWrite(connection=connection.connection(), client_request_token=uuid.uuid4().hex) as tx:
                    for _, _, add in ops:
                        add(tx)
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                failed = {op[0]: (op[1], r.raw_item) for op, r in zip(ops, reasons)
                          if r is not None and r.code == "ConditionalCheckFailed"}
                if failed:
                    raise _error(failed) from exc
                conflict = any(r is not None and r.code in ("TransactionConflict", "ThrottlingError") for r in reasons) \
                    or exc.cause_response_code in ("TransactionConflictException", "TransactionInProgressException")
                if not conflict or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2 ** attempt))  # let the other writer finish


def _error(failed: dict[str, tuple[ErrorFor | None, dict | None]]) -> DomainError:
    for name, (on_fail, old) in failed.items():  # an operation's own error (rate limits) comes first
        if on_fail is not None:
            return on_fail(old)
    for name, error_for in ERRORS.items():
        if name in failed:
            return error_for(failed[name][1])
    return Conflict()
