"""Local stage only: copies of sent mail in the table, newest first, for /_dev/outbox and /_dev/mail."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ...services.ports import MailMessage
from . import keys, table
from .models import OutboxItem


class DynamoOutbox:
    def record(self, message_id: str, message: MailMessage) -> None:
        # Real time, not the business clock: the order of mail must not jump when the clock moves.
        sent_at = datetime.now(timezone.utc)
        sort = f"{keys.stamp(sent_at)}#{message_id}"
        for pk in [keys.outbox(None), *(keys.outbox(to) for to in message.to)]:
            OutboxItem(pk, sort, message_id=message_id, to=list(message.to), subject=message.subject,
                       text=message.text, html=message.html, links=list(message.links), sent_at=sent_at,
                       ttl=sent_at + timedelta(days=7)).save()

    def list(self, to: str | None, limit: int = 50) -> list[dict]:
        items, _ = table.query_page(keys.outbox(to), newest_first=True, limit=limit)
        return [{"message_id": i.message_id, "to": list(i.to), "subject": i.subject, "text": i.text,
                 "html": i.html, "links": list(i.links or []),
                 "sent_at": i.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")} for i in items]
