"""Fixed-window rate limits. Each is one atomic conditional increment that decides in the same call.

`charge` puts the increment into the change's own transaction: the quota is used only if the change
happens. `consume` is the increment alone (for attempts that change nothing else), and `consume_all` the
increments of several limits in one transaction: all of them count, or none and the caller is refused.
Nothing here reads a counter and decides on the read: two parallel requests cannot both take the last unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.errors import RateLimited
from .deps import Deps


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    seconds: int


def window(now: datetime, seconds: int) -> tuple[datetime, int]:
    """The start of the current window and the seconds until the next one."""
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    return now.replace(microsecond=0) - timedelta(seconds=epoch - start), start + seconds - epoch


def charge(deps: Deps, tx, limit: Limit) -> None:
    """Count one use inside the transaction `tx`; the commit raises RateLimited when the window is full."""
    start, retry_after = window(deps.clock.now(), limit.seconds)
    deps.store.rates.charge(tx, limit.key, start, start + timedelta(seconds=2 * limit.seconds), limit.limit,
                            retry_after)


def consume(deps: Deps, limit: Limit) -> None:
    """Count one use now, or raise RateLimited (counting nothing) when the window is full."""
    if not allowed(deps, limit):
        raise RateLimited(window(deps.clock.now(), limit.seconds)[1])


def consume_all(deps: Deps, limits: list[Limit]) -> list[tuple[str, datetime]]:
    """Count one use of every limit in one transaction, or raise RateLimited counting none of them.
    Returns the receipt `refund` takes: the counters (key and window) that were counted."""
    tx = deps.store.transaction()
    receipt = []
    for limit in limits:
        charge(deps, tx, limit)
        receipt.append((limit.key, window(deps.clock.now(), limit.seconds)[0]))
    tx.commit()
    return receipt


def refund(deps: Deps, receipt: list[tuple[str, datetime]], tx) -> None:
    """Give back, inside `tx`, the uses `consume_all` counted (an attempt that turned out not to count)."""
    for key, start in receipt:
        deps.store.rates.refund(tx, key, start)


def allowed(deps: Deps, limit: Limit) -> bool:
    """Count one use if the window has room; False once it is full."""
    start, _ = window(deps.clock.now(), limit.seconds)
    return deps.store.rates.consume(limit.key, start, start + timedelta(seconds=2 * limit.seconds), limit.limit)
