"""Expiry: an invitation past `expires_at` is expired everywhere at once (its status reads `expired`);
this module writes that down — on the spot when its slot or seat is needed, and in the sweep every 15 minutes."""
from __future__ import annotations

import logging
import time
from datetime import datetime

from ...domain.errors import Conflict, RowChanged
from ...domain.invitations import ACCOUNT, Invitation
from ...domain.model import Actor
from .. import audit
from ..deps import Deps
from ..jobs import job
from . import targets

log = logging.getLogger(__name__)
BATCH = 100


def expire(deps: Deps, inv: Invitation, now: datetime) -> bool:
    """pending and past its expiry -> expired, freeing its seat and slot. False if someone else changed it first."""
    event = audit.for_target(deps, inv.target_type, inv.target_id, "invitation.expired", Actor.system_actor(),
                             "invitation", inv.invitation_id, email=inv.email, role=inv.role)

    try:
        targets.close(deps, inv, "expired", now, event)
        return True
    except RowChanged:
        raise
    except Conflict:
        return False  # accepted, revoked or expired by someone else first: their outcome stands


def expire_if_due(deps: Deps, target_type: str, target_id: str, invitation_id: str | None) -> bool:
    """The invitation holding an email's seat, expired now if its time has passed (True if it was)."""
    if not invitation_id:
        return False
    inv = deps.store.invitations.get(target_type, target_id, invitation_id)
    now = deps.clock.now()
    return inv is not None and inv.status == "pending" and inv.effective_status(now) == "expired" \
        and expire(deps, inv, now)


def reclaim_slots(deps: Deps, account_id: str) -> bool:
    """Expired authorized-user invitations stop holding their slot at expiry, even before the sweep."""
    now = deps.clock.now()
    page = deps.store.invitations.list(ACCOUNT, account_id, "expired", now, 200, None)
    reclaimed = False
    for inv in page.items:
        if inv.status == "pending" and inv.role == "authorized_user":
            reclaimed |= expire(deps, inv, now)
    return reclaimed


@job("expire-invitations")
def sweep(deps: Deps, time_budget_seconds: float = 240.0) -> dict:
    """Pending invitations past their expiry, page by page from the sparse due index (a Query, never a
    full-table read); idempotent, and one failing item does not stop the batch."""
    started = time.monotonic()
    expired = skipped = failed = 0
    seen: set[str] = set()
    while time.monotonic() - started < time_budget_seconds:
        now = deps.clock.now()
        due = [i for i in deps.store.invitations.due(now, BATCH) if i.invitation_id not in seen]
        if not due:
            break
        for inv in due:
            seen.add(inv.invitation_id)
            if time.monotonic() - started >= time_budget_seconds:
                break
            try:
                if expire(deps, inv, now):
                    expired += 1
                else:
                    skipped += 1
            except Exception:
                failed += 1
                log.exception("could not expire invitation", extra={"invitation_id": inv.invitation_id})
    return {"expired": expired, "skipped": skipped, "failed": failed}
