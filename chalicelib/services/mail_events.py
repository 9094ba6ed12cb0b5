"""SES delivery events (through SNS): a bounce or a complaint marks the invitations sent to that address,
the client owner's activation status, and — for a permanent bounce or a complaint — stops further mail to
it until a person confirms a new invitation."""
from __future__ import annotations

import logging

from ..domain.emails import is_valid_email, normalize_email
from ..domain.errors import Conflict
from ..domain.model import Actor
from . import audit, clients, retry
from .deps import Deps

log = logging.getLogger(__name__)
_KINDS = {"bounce": "bounced", "complaint": "complained"}


def recipients(notification: dict) -> tuple[str | None, list[str], bool]:
    """(bounce | complaint | None, the addresses, whether they are to be suppressed) of an SES notification —
    from a configuration set (`eventType`) or an identity's notification topic (`notificationType`)."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "").lower()
    if kind == "bounce":
        bounce = notification.get("bounce") or {}
        found = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients") or []]
        return kind, found, bounce.get("bounceType") == "Permanent"
    if kind == "complaint":
        found = [r.get("emailAddress", "") for r in (notification.get("complaint") or {}).get("complainedRecipients") or []]
        return kind, found, True
    return None, [], False


def handle(deps: Deps, notification: dict) -> dict:
    """Idempotent: a repeated notification changes nothing more. Unknown addresses are logged and dropped."""
    kind, found, suppress = recipients(notification)
    if kind is None:
        log.info("an SES event that is neither a bounce nor a complaint was ignored")
        return {"marked": 0, "unknown": 0}
    marked = unknown = 0
    for raw in found:
        email = normalize_email(raw)
        if not is_valid_email(email):
            unknown += 1
            continue
        invitations = deps.store.invitations.pending_for_email(email)
        if suppress:
            deps.store.suppressions.add(email, kind, deps.clock.now(),
                                        {f"{inv.target_type}:{inv.target_id}" for inv in invitations})
        if not invitations:
            log.info("an SES event for an address with no pending invitation was dropped", extra={"kind": kind})
            unknown += 1
        for inv in invitations:
            marked += _mark(deps, inv, _KINDS[kind])
    return {"marked": marked, "unknown": unknown}


def _mark(deps: Deps, inv, delivery_status: str) -> int:
    if inv.delivery_status == delivery_status:
        return 0
    event = audit.for_target(deps, inv.target_type, inv.target_id, "invitation.bounced", Actor.system_actor(),
                             "invitation", inv.invitation_id, email=inv.email, delivery_status=delivery_status)

    def build(tx) -> None:
        deps.store.invitations.mark_delivery(tx, inv, delivery_status)
        deps.store.audit.add(tx, event)
        clients.track(deps, tx, inv, "bounced")

    try:
        retry.commit(deps, build)
    except Conflict:
        return 0  # marked by an earlier delivery of this event, or the invitation moved on
    return 1
