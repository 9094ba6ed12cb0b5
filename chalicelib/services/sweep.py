"""The hourly expiry sweep: pending invitations past `expires_at` become `expired` (idempotent, race-safe)."""
from __future__ import annotations

import logging
import time

from .deps import Deps
from .invitations import _expire_one
from .jobs import job

log = logging.getLogger(__name__)
BATCH = 100


@job("expire-invitations")
def expire_invitations(deps: Deps, time_budget_seconds: float = 240.0) -> dict:
    """Query the sparse due index page by page (a Query, never a full-table read); one failing item does not stop the batch."""
    started = time.monotonic()
    expired = skipped = failed = 0
    seen: set[str] = set()
    while time.monotonic() - started < time_budget_seconds:
        now = deps.clock.now()
        due = [i for i in deps.store.due_invitations(now, BATCH) if i.invitation_id not in seen]
        if not due:
            break
        for inv in due:
            seen.add(inv.invitation_id)
            if time.monotonic() - started >= time_budget_seconds:
                break
            try:
                if _expire_one(deps, inv, now):
                    expired += 1
                else:
                    skipped += 1
            except Exception:
                failed += 1
                log.exception("could not expire invitation", extra={"invitation_id": inv.invitation_id})
    return {"expired": expired, "skipped": skipped, "failed": failed}
