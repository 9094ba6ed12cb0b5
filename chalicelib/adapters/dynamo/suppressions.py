"""Addresses that bounced for good or complained: no mail until a sender whose mail it refused confirms it."""
from __future__ import annotations

from datetime import datetime

from ...domain.errors import AddressSuppressed
from . import keys
from .models import SuppressedItem
from .unit_of_work import UnitOfWork


class Suppressions:
    def add(self, email: str, reason: str, at: datetime, senders: set[str]) -> None:
        """One write; a later event for the same address adds its senders to the earlier ones."""
        actions = [SuppressedItem.reason.set(reason), SuppressedItem.at.set(at),
                   SuppressedItem.kind.set(SuppressedItem)]
        if senders:
            actions.append(SuppressedItem.senders.add(set(senders)))
        SuppressedItem(*keys.suppressed(email)).update(actions=actions)

    def require_deliverable(self, tx: UnitOfWork, email: str) -> None:
        """Holds only while the address is not suppressed (condition `address.deliverable`)."""
        tx.check("address.deliverable", SuppressedItem, *keys.suppressed(email), SuppressedItem.pk.does_not_exist(),
                 on_fail=lambda _old: AddressSuppressed())

    def lift(self, tx: UnitOfWork, email: str, sender: str) -> None:
        """A person confirmed the address: mail may go to it again, if it was their mail that it refused (a
        stranger's confirmation cannot undo someone's complaint about another sender)."""
        condition = SuppressedItem.pk.does_not_exist() | SuppressedItem.senders.contains(sender)
        tx.delete("address.confirmed", SuppressedItem(*keys.suppressed(email)), condition=condition,
                  on_fail=lambda _old: AddressSuppressed())
