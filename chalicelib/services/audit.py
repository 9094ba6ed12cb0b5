"""Audit events: built here, written by the store in the same transaction as the change."""
from __future__ import annotations

from ..domain.model import Actor, AuditEvent, Page
from .deps import Deps


def event(deps: Deps, account_id: str, action: str, actor: Actor, target_type: str, target_id: str,
          **details) -> AuditEvent:
    return AuditEvent(
        event_id=deps.secrets.new_id("evt"), account_id=account_id, at=deps.clock.now(),
        action=action, actor=actor, target_type=target_type, target_id=target_id, details=details,
    )


def list_events(deps: Deps, account_id: str, limit: int, cursor: str | None) -> Page:
    """Newest first."""
    return deps.store.list_audit(account_id, limit, cursor)
