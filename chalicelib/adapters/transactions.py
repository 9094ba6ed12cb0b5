"""A TransactWrite that remembers what each operation guards, to name the one whose condition failed.

PynamoDB sends condition checks, then deletes, then puts, then updates, whatever the call order;
DynamoDB's cancellation reasons follow the sent order, so the names are kept in that order too.
"""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from .dynamo_models import connection

_ORDER = ("check", "delete", "put", "update")


class Transaction:
    def __init__(self) -> None:
        self._ops: dict[str, list] = {k: [] for k in _ORDER}

    def check(self, name: str, model, hash_key, range_key, condition) -> "Transaction":
        self._ops["check"].append((name, lambda tx: tx.condition_check(model, hash_key, range_key, condition=condition)))
        return self

    def delete(self, name: str, item, condition=None) -> "Transaction":
        self._ops["delete"].append((name, lambda tx: tx.delete(item, condition=condition)))
        return self

    def put(self, name: str, item, condition=None) -> "Transaction":
        self._ops["put"].append((name, lambda tx: tx.save(item, condition=condition)))
        return self

    def update(self, name: str, item, actions, condition=None) -> "Transaction":
        self._ops["update"].append((name, lambda tx: tx.update(item, actions=actions, condition=condition)))
        return self

    def names(self) -> list[str]:
        return [name for kind in _ORDER for name, _ in self._ops[kind]]

    def commit(self, attempts: int = 4) -> None:
        """Run it; raise Failed(names of failed conditions). Conflicts with other transactions are retried."""
        for attempt in range(attempts):
            try:
                with TransactWrite(connection=connection()) as tx:
                    for kind in _ORDER:
                        for _, add in self._ops[kind]:
                            add(tx)
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                failed = {name for name, r in zip(self.names(), reasons) if r and r.code == "ConditionalCheckFailed"}
                if failed:
                    raise Failed(failed) from exc
                conflict = any(r and r.code in ("TransactionConflict", "ThrottlingError") for r in reasons) \
                    or exc.cause_response_code in ("TransactionConflictException", "TransactionInProgressException")
                if not conflict or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2 ** attempt))  # jitter: let the other writer finish


class Failed(Exception):
    """The named conditions did not hold."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names
