"""Invitations under their target's partition, with the link copy under `TOKEN#<sha256>` and the email seat.

Index keys follow the status: while pending, gsi1 (the invitee's email) and gsi2 (the expiry sweep);
pending and expired share the gsi3 list `open`, ordered by expiry, so "expired" is one key range even
before the sweep has run; accepted, declined and revoked each have their own gsi3 list, newest first.
"""
from __future__ import annotations

from datetime import datetime

from ...domain.invitations import TOKEN_GRACE, Invitation
from ...domain.model import Page
from . import keys, table
from .cursors import Cursors
from .models import InviteItem, Item, LinkItem, SeatItem
from .unit_of_work import UnitOfWork

_DATA = ("invitation_id", "target_type", "account_id", "partner_id", "email", "role", "status", "delivery_status",
         "invited_by_user_id", "invited_by_name", "invited_by_email", "account_name", "partner_name", "first_name",
         "last_name", "message", "form_id", "token_hash", "created_at", "expires_at", "last_sent_at", "send_count",
         "responded_at", "valid_days")
_INDEX_KEYS = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")
OPEN = ("pending", "expired")


def parent_of(inv: Invitation) -> str:
    return keys.parent_pk(inv.target_type, inv.target_id)


def _index_keys(inv: Invitation) -> dict[str, str]:
    parent = parent_of(inv)
    if inv.status in OPEN:
        found = {"gsi3pk": keys.invitation_list(parent, "open"), "gsi3sk": keys.open_sort(inv.expires_at, inv.invitation_id)}
    else:
        found = {"gsi3pk": keys.invitation_list(parent, inv.status), "gsi3sk": keys.INVITE + inv.invitation_id}
    if inv.status == "pending":
        found.update(gsi1pk=keys.by_email(inv.email), gsi1sk=keys.INVITE + inv.invitation_id,
                     gsi2pk=keys.due_shard(inv.invitation_id),
                     gsi2sk=keys.due_sort(inv.expires_at, parent, inv.invitation_id))
    return found


def _index_actions(inv: Invitation) -> list:
    wanted = _index_keys(inv)
    return [getattr(InviteItem, k).set(wanted[k]) if k in wanted else getattr(InviteItem, k).remove()
            for k in _INDEX_KEYS]


def _data(inv: Invitation) -> dict:
    return {name: getattr(inv, name) for name in _DATA}


def invite_item(inv: Invitation) -> InviteItem:
    return InviteItem(*keys.invitation(parent_of(inv), inv.invitation_id), **_data(inv), **_index_keys(inv))


def link_item(inv: Invitation) -> LinkItem:
    return LinkItem(*keys.token(inv.token_hash), **_data(inv), ttl=inv.expires_at + TOKEN_GRACE)


def to_invitation(i: InviteItem) -> Invitation:
    values = {name: getattr(i, name) for name in _DATA}
    values["send_count"] = int(values["send_count"] or 0)
    values["valid_days"] = int(values["valid_days"] or 30)
    return Invitation(**values)


def _main(inv: Invitation) -> InviteItem:
    return InviteItem(*keys.invitation(parent_of(inv), inv.invitation_id))


def _link(token_hash: str) -> LinkItem:
    return LinkItem(*keys.token(token_hash))


def _seat(inv: Invitation) -> SeatItem:
    return SeatItem(*keys.seat(parent_of(inv), inv.email))


class Invitations:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    # reads ----------------------------------------------------------------------------------------
    def get(self, target_type: str, target_id: str, invitation_id: str) -> Invitation | None:
        item = table.get(InviteItem, *keys.invitation(keys.parent_pk(target_type, target_id), invitation_id))
        return to_invitation(item) if item else None

    def by_token(self, token_hash: str) -> Invitation | None:
        """The invitation of a link, only while that link is its current one (a resend deletes the old)."""
        item = table.get(Item, *keys.token(token_hash))  # a verification token there is not a link
        return to_invitation(item) if isinstance(item, LinkItem) else None

    def list(self, target_type: str, target_id: str, status: str | None, now: datetime, limit: int,
             cursor: str | None) -> Page:
        """Newest first, one Query page whatever the status (expired: most recently expired first)."""
        parent = keys.parent_pk(target_type, target_id)
        scope = f"invitations:{parent}:{status or '*'}"
        start = self._cursors.decode(scope, cursor)
        if status is None:
            items, last = table.query_page(parent, InviteItem.sk.startswith(keys.INVITE), newest_first=True,
                                           limit=limit, start_key=start)
        elif status in OPEN:
            boundary = keys.stamp(now) + "$"  # '$' sorts right after '#': at the instant of expiry it is expired
            condition = InviteItem.gsi3sk > boundary if status == "pending" else InviteItem.gsi3sk < boundary
            items, last = table.query_page(keys.invitation_list(parent, "open"), condition, index="gsi3",
                                           newest_first=True, limit=limit, start_key=start)
        else:
            items, last = table.query_page(keys.invitation_list(parent, status), index="gsi3", newest_first=True,
                                           limit=limit, start_key=start)
        return Page([to_invitation(i) for i in items], self._cursors.encode(scope, last))

    def pending_for_email(self, email: str, limit: int = 100) -> list[Invitation]:
        items, _ = table.query_page(keys.by_email(email), InviteItem.gsi1sk.startswith(keys.INVITE), index="gsi1",
                                    newest_first=True, limit=limit)
        return [to_invitation(i) for i in items]

    def due(self, now: datetime, limit: int) -> list[Invitation]:
        """Pending invitations whose expiry has passed, oldest first, one page from every shard."""
        due: list[Invitation] = []
        for shard in keys.due_shards():
            items, _ = table.query_page(shard, InviteItem.gsi2sk < keys.stamp(now) + "$", index="gsi2", limit=limit)
            due += [to_invitation(i) for i in items]
        return sorted(due, key=lambda i: i.expires_at)[:limit]

    # writes -------------------------------------------------------------------------------------
    def add(self, tx: UnitOfWork, inv: Invitation) -> None:
        """The invitation, its link, and the email's seat (condition `seat`: nobody holds it yet)."""
        tx.put("invite.new", invite_item(inv), condition=InviteItem.pk.does_not_exist())
        tx.put("link.new", link_item(inv), condition=LinkItem.pk.does_not_exist())
        tx.put("seat", SeatItem(*keys.seat(parent_of(inv), inv.email), state="invited",
                                invitation_id=inv.invitation_id), condition=SeatItem.pk.does_not_exist())

    def record_send(self, inv: Invitation, delivery_status: str) -> None:
        """After the mail went out: only if the invitation still has this link (a newer resend wins)."""
        from pynamodb.exceptions import UpdateError

        try:
            _main(inv).update(actions=[InviteItem.delivery_status.set(delivery_status)],
                              condition=InviteItem.token_hash == inv.token_hash)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def mark_delivery(self, tx: UnitOfWork, inv: Invitation, delivery_status: str) -> None:
        """A delivery event (bounce, complaint) on a pending invitation, once (condition `invite.delivery`)."""
        tx.update("invite.delivery", _main(inv), [InviteItem.delivery_status.set(delivery_status)],
                  condition=(InviteItem.status == "pending") & (InviteItem.delivery_status != delivery_status))

    def accept(self, tx: UnitOfWork, inv: Invitation, now: datetime) -> None:
        """pending and unexpired, with this link -> accepted (condition `invite.state`)."""
        inv.status, inv.responded_at = "accepted", now
        tx.update("invite.state", _main(inv),
                  [InviteItem.status.set("accepted"), InviteItem.responded_at.set(now), *_index_actions(inv)],
                  condition=(InviteItem.status == "pending") & (InviteItem.expires_at > now)
                  & (InviteItem.token_hash == inv.token_hash))
        tx.update("link", _link(inv.token_hash), [LinkItem.status.set("accepted"), LinkItem.responded_at.set(now)])

    def close(self, tx: UnitOfWork, inv: Invitation, status: str, now: datetime, token_hash: str | None = None) -> None:
        """pending -> declined / revoked (before expiry) or -> expired (after it); the seat is freed."""
        s, exp = InviteItem.status, InviteItem.expires_at
        # Always this link: a close from a read older than a resend must not leave the new link out of step.
        condition = (s == "pending") & ((exp <= now) if status == "expired" else (exp > now)) \
            & (InviteItem.token_hash == (token_hash or inv.token_hash))
        inv.status = status
        main_actions, link_actions = [s.set(status), *_index_actions(inv)], [LinkItem.status.set(status)]
        if status != "expired":
            inv.responded_at = now
            main_actions.append(InviteItem.responded_at.set(now))
            link_actions.append(LinkItem.responded_at.set(now))
        tx.update("invite.state", _main(inv), main_actions, condition=condition)
        tx.update("link", _link(inv.token_hash), link_actions)
        tx.delete("seat.free", _seat(inv),
                  condition=SeatItem.pk.does_not_exist() | (SeatItem.invitation_id == inv.invitation_id))

    def resend(self, tx: UnitOfWork, inv: Invitation, old_token_hash: str, revived: bool) -> None:
        """New link, new expiry, one more send; the old link dies. `revived`: it had been swept to expired."""
        previous = "expired" if revived else "pending"
        tx.update("invite.state", _main(inv), [
            InviteItem.status.set("pending"), InviteItem.token_hash.set(inv.token_hash),
            InviteItem.expires_at.set(inv.expires_at), InviteItem.last_sent_at.set(inv.last_sent_at),
            InviteItem.send_count.set(inv.send_count), InviteItem.delivery_status.set("queued"),
            *_index_actions(inv)],
            condition=(InviteItem.status == previous) & (InviteItem.token_hash == old_token_hash))
        tx.delete("link.old", _link(old_token_hash))
        tx.put("link.new", link_item(inv), condition=LinkItem.pk.does_not_exist())
        if revived:
            tx.put("seat", SeatItem(*keys.seat(parent_of(inv), inv.email), state="invited",
                                    invitation_id=inv.invitation_id), condition=SeatItem.pk.does_not_exist())
