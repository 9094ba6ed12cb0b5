"""Clocks and secrets: injected so tests and the local stage can move time and fix randomness."""
from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta, timezone


class SystemClock:
    """Real UTC time plus an offset that only the local stage's /_dev/clock moves."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = timedelta()
        return self.now()


class FixedClock(SystemClock):
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        super().__init__()
        self._start = start

    def now(self) -> datetime:
        return self._start + self._offset


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SystemSecrets:
    """Tokens from `secrets` (32 bytes, URL-safe), never uuid or random; ids that sort by creation time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = (0, 0)  # (milliseconds, 80 random bits) of the previous id

    def token(self) -> str:
        return secrets.token_urlsafe(32)

    def new_id(self, prefix: str) -> str:
        """`prefix_` and a ULID: 48 bits of real milliseconds, then 80 random bits.

        Within one millisecond the random part counts up (ULID's monotonic rule), so ids this process
        makes sort in the order it made them; sort keys ending in an id mean "newest first".
        """
        with self._lock:
            millis = time.time_ns() // 1_000_000
            last_ms, last_rand = self._last
            if millis <= last_ms:
                millis, rand = last_ms, last_rand + 1  # the clock did not move (or stepped back): count up
            else:
                rand = secrets.randbits(80)
            self._last = (millis, rand)
        value = (millis << 80) | (rand & ((1 << 80) - 1))
        return prefix + "_" + "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
