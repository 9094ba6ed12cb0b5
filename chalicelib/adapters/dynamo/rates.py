"""Rate-limit windows: one counter item per key and window, incremented and checked in the same call.

`charge` adds the increment to a transaction (the limit holds only if the change happens, and a refused
change uses no quota); `consume` is the same increment on its own.
"""
from __future__ import annotations

from datetime import datetime

from ...domain.errors import RateLimited
from . import keys, table
from .models import RateItem
from .unit_of_work import UnitOfWork


def _counter(key: str, window_start: datetime) -> RateItem:
    return RateItem(*keys.rate(key, window_start))


def _increment(expires_at: datetime) -> list:
    # An update creates the item when it is missing: it names its kind itself so that mixed reads know it.
    return [RateItem.hits.add(1), RateItem.ttl.set(expires_at), RateItem.kind.set(RateItem)]


def _room(limit: int):
    return RateItem.hits.does_not_exist() | (RateItem.hits < limit)


class Rates:
    def charge(self, tx: UnitOfWork, key: str, window_start: datetime, expires_at: datetime, limit: int,
               retry_after: int) -> None:
        tx.update(f"rate:{key}", _counter(key, window_start), _increment(expires_at), condition=_room(limit),
                  on_fail=lambda _old: RateLimited(retry_after))

    def consume(self, key: str, window_start: datetime, expires_at: datetime, limit: int) -> bool:
        """Count one hit if the window has room; False (nothing counted) once it is full."""
        from pynamodb.exceptions import UpdateError

        try:
            _counter(key, window_start).update(actions=_increment(expires_at), condition=_room(limit))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def refund(self, tx: UnitOfWork, key: str, window_start: datetime) -> None:
        """Take one hit back (never below zero, and never creating a counter)."""
        tx.update(f"rate.refund:{key}", _counter(key, window_start), [RateItem.hits.add(-1)],
                  condition=RateItem.hits > 0)

    def counts(self, keyed: list[str], window_start: datetime) -> dict[str, int]:
        """Current counts of several keys of one window, in one BatchGetItem."""
        by_key = {keys.rate(k, window_start): k for k in keyed}
        return {by_key[(i.pk, i.sk)]: int(i.hits) for i in table.batch_get(list(by_key)) if isinstance(i, RateItem)}
