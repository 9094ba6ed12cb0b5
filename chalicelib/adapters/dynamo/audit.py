"""Audit events, append-only, in their account's, partner's or user's partition under time-ordered ids."""
from __future__ import annotations

from ...domain.model import Actor, AuditEvent, Page
from . import keys, table
from .cursors import Cursors
from .models import AuditItem
from .unit_of_work import UnitOfWork


def _log(event: AuditEvent) -> str:
    if event.account_id:
        return keys.account_pk(event.account_id)
    return keys.user_pk(event.user_log) if event.user_log else keys.partner_pk(event.partner_id or "")


def audit_item(e: AuditEvent) -> AuditItem:
    return AuditItem(*keys.audit(_log(e), e.event_id), event_id=e.event_id, account_id=e.account_id,
                     partner_id=e.partner_id, user_log=e.user_log, at=e.at, action=e.action,
                     actor=e.actor.as_dict(), target_type=e.target_type, target_id=e.target_id, details=e.details)


def to_event(i: AuditItem) -> AuditEvent:
    a = i.actor or {}
    acting_for = a.get("acting_for")
    actor = Actor(a.get("user_id"), a.get("email"), bool(a.get("system")),
                  acting_for.get("partner_id") if isinstance(acting_for, dict) else acting_for)
    return AuditEvent(i.event_id, i.at, i.action, actor, i.target_type, i.target_id, i.details or {},
                      account_id=i.account_id, partner_id=i.partner_id, user_log=i.user_log)


class Audit:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def add(self, tx: UnitOfWork, event: AuditEvent) -> None:
        """In the same transaction as the change it records."""
        tx.put(f"audit.{len(tx)}", audit_item(event), condition=AuditItem.pk.does_not_exist())

    def add_now(self, event: AuditEvent) -> None:
        """On its own (a refused attempt changes nothing else)."""
        audit_item(event).save(condition=AuditItem.pk.does_not_exist())

    def list(self, target_type: str, target_id: str, limit: int, cursor: str | None) -> Page:
        """Newest first: event ids are time-ordered."""
        parent = keys.parent_pk(target_type, target_id)
        scope = f"audit:{parent}"
        items, last = table.query_page(parent, AuditItem.sk.startswith(keys.AUDIT), newest_first=True, limit=limit,
                                       start_key=self._cursors.decode(scope, cursor))
        return Page([to_event(i) for i in items], self._cursors.encode(scope, last))
