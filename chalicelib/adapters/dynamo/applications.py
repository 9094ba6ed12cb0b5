"""Authorized-user applications, under their account; in the review queue (gsi2) once submitted."""
from __future__ import annotations

from datetime import datetime

from ...domain.applications import Application
from ...domain.model import Page
from . import keys, table
from .cursors import Cursors
from .models import ApplicationItem
from .unit_of_work import UnitOfWork


def to_application(i: ApplicationItem) -> Application:
    return Application(account_id=i.account_id, user_id=i.user_id, email=i.email, status=i.status,
                       details=dict(i.details or {}), account_name=i.account_name, created_at=i.created_at,
                       submitted_at=i.submitted_at, decided_at=i.decided_at, decided_by=i.decided_by, reason=i.reason,
                       notify=list(i.notify or []))


def _key(account_id: str, user_id: str) -> ApplicationItem:
    return ApplicationItem(*keys.application(account_id, user_id))


class Applications:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, account_id: str, user_id: str) -> Application | None:
        item = table.get(ApplicationItem, *keys.application(account_id, user_id))
        return to_application(item) if item else None

    def list_for_review(self, status: str, limit: int, cursor: str | None) -> Page:
        """One Query page of the review queue, newest first (by submission, or by decision once decided)."""
        scope = f"reviews:{status}"
        items, last = table.query_page(keys.review_queue(status), index="gsi2", newest_first=True, limit=limit,
                                       start_key=self._cursors.decode(scope, cursor))
        return Page([to_application(i) for i in items], self._cursors.encode(scope, last))

    def save_draft(self, tx: UnitOfWork, app: Application) -> None:
        """A new draft, or the draft replaced (condition `application.editable`: never once submitted)."""
        tx.put("application.editable", ApplicationItem(
            *keys.application(app.account_id, app.user_id), account_id=app.account_id, user_id=app.user_id,
            email=app.email, status="draft", details=app.details, account_name=app.account_name,
            created_at=app.created_at), condition=ApplicationItem.pk.does_not_exist() | (ApplicationItem.status == "draft"))

    def submit(self, tx: UnitOfWork, app: Application, now: datetime, notify: list[str]) -> None:
        tx.update("application.draft", _key(app.account_id, app.user_id), [
            ApplicationItem.status.set("in_review"), ApplicationItem.submitted_at.set(now),
            ApplicationItem.notify.set(notify), ApplicationItem.gsi2pk.set(keys.review_queue("in_review")),
            ApplicationItem.gsi2sk.set(keys.review_sort(now, app.account_id, app.user_id))],
            condition=ApplicationItem.status == "draft")

    def decide(self, tx: UnitOfWork, app: Application, status: str, now: datetime, reviewer_id: str,
               reason: str | None) -> None:
        """in_review -> approved or rejected (condition `application.in_review`: two reviewers, one outcome).

        A rejection ends the purpose of the personal details: they are deleted; the decision stays."""
        actions = [ApplicationItem.status.set(status), ApplicationItem.decided_at.set(now),
                   ApplicationItem.decided_by.set(reviewer_id), ApplicationItem.gsi2pk.set(keys.review_queue(status)),
                   ApplicationItem.gsi2sk.set(keys.review_sort(now, app.account_id, app.user_id))]
        if reason is not None:
            actions.append(ApplicationItem.reason.set(reason))
        if status == "rejected":
            actions.append(ApplicationItem.details.remove())
        tx.update("application.in_review", _key(app.account_id, app.user_id), actions,
                  condition=ApplicationItem.status == "in_review")

    def remove(self, tx: UnitOfWork, account_id: str, user_id: str) -> None:
        """The member left, was removed or is an admin again: the application and its details go."""
        tx.delete("application.removed", _key(account_id, user_id))
