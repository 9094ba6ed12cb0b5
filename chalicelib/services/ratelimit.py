"""Fixed-window rate limits. Each is one atomic conditional increment that decides in the same call.

`charge` puts the increment into the change's own transaction: the quota is used only if the change
happens. `consume` is the increment alone (for attempts that change nothing else).
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


def allowed(deps: Deps, limit: Limit) -> bool:
    """Count one use if the window has room; False once it is full."""
    start, _ = window(deps.clock.now(), limit.seconds)
    return deps.store.rates.consume(limit.key, start, start + timedelta(seconds=2 * limit.seconds), limit.limit)


def require_room(deps: Deps, limits: list[Limit]) -> None:
    """Refuse (without counting) when any of these windows is already full: one read for all of them."""
    if not limits:
        return
    seconds = limits[0].seconds
    start, retry_after = window(deps.clock.now(), seconds)
    counts = deps.store.rates.counts([lim.key for lim in limits], start)
    if any(counts.get(lim.key, 0) >= lim.limit for lim in limits):
        raise RateLimited(retry_after)
