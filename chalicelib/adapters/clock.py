"""Clocks and secrets: injected so tests and the local stage can move time and fix randomness."""
from __future__ import annotations

import secrets
import threading
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


class SystemSecrets:
    """Tokens from `secrets` (32 bytes, URL-safe), never uuid or random."""

    def token(self) -> str:
        return secrets.token_urlsafe(32)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(10)}"
