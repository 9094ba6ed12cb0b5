"""Local stage only: copies of sent mail in the table, newest first, for /_dev/outbox and /_dev/mail."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..services.ports import MailMessage
from .dynamo_models import OutboxItem


class DynamoOutbox:
    def __init__(self, clock) -> None:
        self.clock = clock

    def record(self, message_id: str, message: MailMessage) -> None:
        # Real time, not the business clock: the order of mail must not jump when the clock moves.
        sent_at = datetime.now(timezone.utc)
        sort = f"{sent_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{message_id}"
        for pk in ["OUTBOX#*", *(f"OUTBOX#{to}" for to in message.to)]:
            OutboxItem(pk, sort, message_id=message_id, to=list(message.to), subject=message.subject,
                       text=message.text, html=message.html, links=list(message.links), sent_at=sent_at,
                       ttl=sent_at + timedelta(days=7)).save()

    def list(self, to: str | None, limit: int = 50) -> list[dict]:
        items = OutboxItem.query(f"OUTBOX#{to or '*'}", scan_index_forward=False, limit=limit)
        return [{"message_id": i.message_id, "to": list(i.to), "subject": i.subject, "text": i.text,
                 "html": i.html, "links": list(i.links or []),
                 "sent_at": i.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")} for i in items]
