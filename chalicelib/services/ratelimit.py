"""Fixed-window counters kept in the table (RATE#key#window items that expire by TTL)."""
from __future__ import annotations

from datetime import timedelta

from ..domain.errors import RateLimited
from .deps import Deps


def _window(deps: Deps, seconds: int):
    now = deps.clock.now()
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    retry_after = start + seconds - epoch
    return now.replace(microsecond=0) - timedelta(seconds=epoch - start), retry_after


def check(deps: Deps, key: str, limit: int, seconds: int) -> None:
    """Raise RateLimited when `key` has already reached `limit` in the current window."""
    check_all(deps, {key: limit}, seconds)


def check_all(deps: Deps, limits: dict[str, int], seconds: int) -> None:
    """Several keys of one window length, read in one round trip."""
    start, retry_after = _window(deps, seconds)
    counts = deps.store.hits_many(list(limits), start)
    if any(counts.get(key, 0) >= limit for key, limit in limits.items()):
        raise RateLimited(retry_after)


def hit(deps: Deps, key: str, limit: int, seconds: int) -> bool:
    """Count one attempt; True while the window is still within its limit."""
    start, _ = _window(deps, seconds)
    count = deps.store.count_hit(key, start, start + timedelta(seconds=seconds * 2))
    return count <= limit


def consume(deps: Deps, key: str, limit: int, seconds: int) -> None:
    """Count one attempt and raise RateLimited once the window's limit is passed."""
    if not hit(deps, key, limit, seconds):
        raise RateLimited(_window(deps, seconds)[1])
