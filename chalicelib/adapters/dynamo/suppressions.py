"""Addresses that bounced for good or complained: no mail until a person confirms a new invitation."""
from __future__ import annotations

from datetime import datetime

from ...domain.errors import AddressSuppressed
from . import keys
from .models import SuppressedItem
from .unit_of_work import UnitOfWork


class Suppressions:
    def add(self, email: str, reason: str, at: datetime) -> None:
        SuppressedItem(*keys.suppressed(email), reason=reason, at=at).save()

    def require_deliverable(self, tx: UnitOfWork, email: str) -> None:
        """Holds only while the address is not suppressed (condition `address.deliverable`)."""
        tx.check("address.deliverable", SuppressedItem, *keys.suppressed(email), SuppressedItem.pk.does_not_exist(),
                 on_fail=lambda _old: AddressSuppressed())

    def lift(self, tx: UnitOfWork, email: str) -> None:
        """A person confirmed the address: mail may go to it again."""
        tx.delete("address.confirmed", SuppressedItem(*keys.suppressed(email)))
