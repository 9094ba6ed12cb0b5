"""Audit events: built here (action names checked against the one list), written in the change's transaction."""
from __future__ import annotations

from ..domain.audit import require_known
from ..domain.model import Actor, AuditEvent, Page
from .deps import Deps


def account_event(deps: Deps, account_id: str, action: str, actor: Actor, target_type: str, target_id: str,
                  **details) -> AuditEvent:
    return AuditEvent(event_id=deps.secrets.new_id("evt"), at=deps.clock.now(), action=require_known(action),
                      actor=actor, target_type=target_type, target_id=target_id, details=details,
                      account_id=account_id)


def partner_event(deps: Deps, partner_id: str, action: str, actor: Actor, target_type: str, target_id: str,
                  **details) -> AuditEvent:
    return AuditEvent(event_id=deps.secrets.new_id("evt"), at=deps.clock.now(), action=require_known(action),
                      actor=actor, target_type=target_type, target_id=target_id, details=details,
                      partner_id=partner_id)


def for_target(deps: Deps, target_type: str, target_id: str, action: str, actor: Actor, kind: str, object_id: str,
               **details) -> AuditEvent:
    """An event in the log of an invitation's target (an account or a partner)."""
    build = account_event if target_type == "account" else partner_event
    return build(deps, target_id, action, actor, kind, object_id, **details)


def list_events(deps: Deps, target_type: str, target_id: str, limit: int, cursor: str | None) -> Page:
    """Newest first."""
    return deps.store.audit.list(target_type, target_id, limit, cursor)


def user_event(deps: Deps, user_id: str, action: str, actor: Actor, **details) -> AuditEvent:
    """An event in a user's own log (their sign-in settings), about that user."""
    return AuditEvent(event_id=deps.secrets.new_id("evt"), at=deps.clock.now(), action=require_known(action),
                      actor=actor, target_type="user", target_id=user_id, details=details, user_log=user_id)
