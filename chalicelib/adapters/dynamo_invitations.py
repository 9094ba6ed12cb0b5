"""Invitations and memberships on the table: each state change is one transaction with its conditions."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..domain.errors import AlreadyMember, AuthorizedUserLimit, Conflict, InvalidState, InvitationPending
from ..domain.invitations import AUTHORIZED_USER_SLOTS, TOKEN_GRACE, Invitation
from ..domain.model import AuditEvent, Membership, Page
from . import cursors
from .dynamo_codec import _audit_item, _member_item
from .dynamo_models import AccountItem, InviteItem, MemberItem, PendingItem, TokenItem
from .transactions import Failed, Transaction

DUE_SHARDS = 4
INVITATION = "invitation"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _shard(invitation_id: str) -> str:
    return f"DUE#{int(hashlib.sha256(invitation_id.encode()).hexdigest(), 16) % DUE_SHARDS}"


def _pending_keys(inv: Invitation) -> dict:
    return {"gsi1pk": f"EMAIL#{inv.email}", "gsi1sk": f"INVITE#{inv.invitation_id}",
            "gsi2pk": _shard(inv.invitation_id), "gsi2sk": f"{_iso(inv.expires_at)}#{inv.invitation_id}"}


def _invite_item(inv: Invitation) -> InviteItem:
    keys = _pending_keys(inv) if inv.status == "pending" else {}
    return InviteItem(f"ACCOUNT#{inv.account_id}", f"INVITE#{inv.invitation_id}", **keys,
                      invitation_id=inv.invitation_id, account_id=inv.account_id, partner_id=inv.partner_id,
                      email=inv.email, role=inv.role, status=inv.status, delivery_status=inv.delivery_status,
                      invited_by_user_id=inv.invited_by_user_id, invited_by_name=inv.invited_by_name,
                      account_name=inv.account_name, first_name=inv.first_name, last_name=inv.last_name,
                      message=inv.message, form_id=inv.form_id, token_hash=inv.token_hash,
                      created_at=inv.created_at, expires_at=inv.expires_at, last_sent_at=inv.last_sent_at,
                      send_count=inv.send_count, responded_at=inv.responded_at, valid_days=inv.valid_days)


def _to_invitation(i: InviteItem) -> Invitation:
    return Invitation(invitation_id=i.invitation_id, account_id=i.account_id, email=i.email, role=i.role,
                      status=i.status, invited_by_user_id=i.invited_by_user_id, invited_by_name=i.invited_by_name,
                      account_name=i.account_name, created_at=i.created_at, expires_at=i.expires_at,
                      last_sent_at=i.last_sent_at, send_count=int(i.send_count or 0), token_hash=i.token_hash,
                      first_name=i.first_name, last_name=i.last_name, message=i.message,
                      delivery_status=i.delivery_status, responded_at=i.responded_at, partner_id=i.partner_id,
                      form_id=i.form_id, valid_days=int(i.valid_days or 30))


def _token_item(token_hash: str, inv: Invitation) -> TokenItem:
    return TokenItem(f"TOKEN#{token_hash}", "TOKEN", purpose=INVITATION, account_id=inv.account_id,
                     invitation_id=inv.invitation_id, expires_at=inv.expires_at, ttl=inv.expires_at + TOKEN_GRACE)


def _invite_key(inv: Invitation) -> InviteItem:
    return InviteItem(f"ACCOUNT#{inv.account_id}", f"INVITE#{inv.invitation_id}")


def _account_key(account_id: str) -> AccountItem:
    return AccountItem(f"ACCOUNT#{account_id}", "ACCOUNT")


def _take_slot(tx: Transaction, account_id: str) -> None:
    """Reserve one of the account's two authorized-user slots (condition `slot`)."""
    tx.update("slot", _account_key(account_id), [AccountItem.authorized_user_slots.add(1)],
              condition=(AccountItem.status == "active") & (AccountItem.authorized_user_slots < AUTHORIZED_USER_SLOTS))


def _release_slot(tx: Transaction, account_id: str) -> None:
    tx.update("slot", _account_key(account_id), [AccountItem.authorized_user_slots.add(-1)],
              condition=AccountItem.authorized_user_slots > 0)


_CLEAR_INDEXES = (InviteItem.gsi1pk.remove(), InviteItem.gsi1sk.remove(), InviteItem.gsi2pk.remove(),
                  InviteItem.gsi2sk.remove())


class DynamoInvitations:
    """The invitation half of the Store port."""

    def _error_for(self, failed: Failed, account_id: str) -> Exception:
        """The domain error a failed invitation write stands for, by the name of its condition."""
        if "member" in failed.names:
            return AlreadyMember()
        if "pending" in failed.names:
            return InvitationPending()
        if "slot" in failed.names:
            account = self.get_account(account_id)  # full, or the account closed meanwhile?
            if account is None or account.status != "active":
                return InvalidState("This account is closed.")
            return AuthorizedUserLimit()
        if "account" in failed.names:
            return InvalidState("This account is closed.")
        return Conflict()

    def create_invitation(self, inv: Invitation, event: AuditEvent, existing_user_id: str | None) -> None:
        pk = f"ACCOUNT#{inv.account_id}"
        tx = Transaction()
        if inv.role == "authorized_user":
            _take_slot(tx, inv.account_id)
        else:
            tx.check("account", AccountItem, pk, "ACCOUNT", AccountItem.status == "active")
        if existing_user_id:
            tx.check("member", MemberItem, pk, f"MEMBER#{existing_user_id}", MemberItem.pk.does_not_exist())
        tx.put("pending", PendingItem(pk, f"PENDING#{inv.email}", invitation_id=inv.invitation_id),
               condition=PendingItem.pk.does_not_exist())
        tx.put("invite", _invite_item(inv), condition=InviteItem.pk.does_not_exist())
        tx.put("token", _token_item(inv.token_hash, inv), condition=TokenItem.pk.does_not_exist())
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise self._error_for(failed, inv.account_id) from failed

    def get_invitation(self, account_id: str, invitation_id: str) -> Invitation | None:
        try:
            return _to_invitation(InviteItem.get(f"ACCOUNT#{account_id}", f"INVITE#{invitation_id}",
                                                 consistent_read=True))
        except DoesNotExist:
            return None

    def invitation_for_token(self, token_hash: str) -> Invitation | None:
        """The invitation a link belongs to, only while that link is its current one."""
        try:
            token = TokenItem.get(f"TOKEN#{token_hash}", "TOKEN", consistent_read=True)
        except DoesNotExist:
            return None
        if token.purpose != INVITATION:
            return None
        inv = self.get_invitation(token.account_id, token.invitation_id)
        if inv is None or not hmac.compare_digest(inv.token_hash, token_hash):
            return None
        return inv

    def list_invitations(self, account_id: str, status: str | None, now: datetime, limit: int,
                         cursor: str | None) -> Page:
        s, exp = InviteItem.status, InviteItem.expires_at
        filters = {
            "pending": (s == "pending") & (exp > now),
            "expired": (s == "expired") | ((s == "pending") & (exp <= now)),
        }
        condition = filters.get(status, (s == status) if status else None)
        start = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": cursors.decode(cursor, "INVITE#")}} if cursor else None
        result = InviteItem.query(f"ACCOUNT#{account_id}", InviteItem.sk.startswith("INVITE#"),
                                  filter_condition=condition, limit=limit, page_size=limit,
                                  last_evaluated_key=start, consistent_read=True, scan_index_forward=False)
        items = [_to_invitation(i) for i in result]
        last = result.last_evaluated_key
        return Page(items, cursors.encode(last["sk"]["S"]) if last else None)

    def pending_invitations_for_email(self, email: str) -> list[Invitation]:
        return [_to_invitation(i) for i in InviteItem.by_owner.query(
            f"EMAIL#{email}", InviteItem.gsi1sk.startswith("INVITE#"), limit=100)]

    def due_invitations(self, now: datetime, limit: int) -> list[Invitation]:
        """Pending invitations whose expiry has passed, oldest first, from every shard of the sparse index."""
        due: list[Invitation] = []
        for shard in range(DUE_SHARDS):
            due += [_to_invitation(i) for i in InviteItem.by_due.query(
                f"DUE#{shard}", InviteItem.gsi2sk < _iso(now), limit=limit)]
        return sorted(due, key=lambda i: i.expires_at)[:limit]

    def record_send(self, inv: Invitation, delivery_status: str) -> None:
        _invite_key(inv).update(actions=[InviteItem.delivery_status.set(delivery_status)],
                                condition=InviteItem.pk.exists())

    def accept_invitation(self, inv: Invitation, membership: Membership, events: list[AuditEvent],
                          now: datetime) -> None:
        pk = f"ACCOUNT#{inv.account_id}"
        tx = Transaction()
        tx.update("invite", _invite_key(inv),
                  [InviteItem.status.set("accepted"), InviteItem.responded_at.set(now), *_CLEAR_INDEXES],
                  condition=(InviteItem.status == "pending") & (InviteItem.expires_at > now)
                  & (InviteItem.token_hash == inv.token_hash))
        tx.put("member", _member_item(membership), condition=MemberItem.pk.does_not_exist())
        tx.delete("pending", PendingItem(pk, f"PENDING#{inv.email}"))
        if inv.role == "owner":
            tx.update("account", _account_key(inv.account_id),
                      [AccountItem.owner_ids.append([membership.user_id]), AccountItem.version.add(1)],
                      condition=AccountItem.status == "active")
        else:
            tx.check("account", AccountItem, pk, "ACCOUNT", AccountItem.status == "active")
        for n, event in enumerate(events):
            tx.put(f"audit{n}", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            if "invite" in failed.names:
                raise Conflict() from failed  # the service reloads it and answers by its new state
            if "member" in failed.names:
                raise AlreadyMember() from failed
            raise InvalidState("This account is closed.") from failed

    def close_invitation(self, inv: Invitation, status: str, now: datetime, event: AuditEvent,
                         token_hash: str | None = None) -> None:
        """pending -> declined / revoked (before expiry) or -> expired (after it); frees the slot it held."""
        pk = f"ACCOUNT#{inv.account_id}"
        s, exp = InviteItem.status, InviteItem.expires_at
        condition = (s == "pending") & ((exp <= now) if status == "expired" else (exp > now))
        if token_hash:
            condition &= InviteItem.token_hash == token_hash
        actions = [s.set(status), *_CLEAR_INDEXES]
        if status != "expired":
            actions.append(InviteItem.responded_at.set(now))
        tx = Transaction()
        tx.update("invite", _invite_key(inv), actions, condition=condition)
        tx.delete("pending", PendingItem(pk, f"PENDING#{inv.email}"))
        if inv.role == "authorized_user":
            _release_slot(tx, inv.account_id)
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise Conflict() from failed

    def resend_invitation(self, inv: Invitation, old_token_hash: str, event: AuditEvent, revived: bool) -> None:
        """New link, new expiry, send recorded; the old link dies. `revived`: it had been swept to expired."""
        pk = f"ACCOUNT#{inv.account_id}"
        keys = _pending_keys(inv)
        tx = Transaction()
        previous = "expired" if revived else "pending"
        tx.update("invite", _invite_key(inv), [
            InviteItem.status.set("pending"), InviteItem.token_hash.set(inv.token_hash),
            InviteItem.expires_at.set(inv.expires_at), InviteItem.last_sent_at.set(inv.last_sent_at),
            InviteItem.send_count.add(1), InviteItem.delivery_status.set("queued"),
            *(getattr(InviteItem, k).set(v) for k, v in keys.items())],
            condition=(InviteItem.status == previous) & (InviteItem.token_hash == old_token_hash))
        tx.delete("old_token", TokenItem(f"TOKEN#{old_token_hash}", "TOKEN"))
        tx.put("token", _token_item(inv.token_hash, inv), condition=TokenItem.pk.does_not_exist())
        if revived:
            tx.put("pending", PendingItem(pk, f"PENDING#{inv.email}", invitation_id=inv.invitation_id),
                   condition=PendingItem.pk.does_not_exist())
            if inv.role == "authorized_user":
                _take_slot(tx, inv.account_id)
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise self._error_for(failed, inv.account_id) from failed

    def remove_member(self, membership: Membership, event: AuditEvent, remaining_owner_ids: list[str] | None,
                      account_version: int) -> None:
        """Delete the membership; free its slot; keep at least one owner (optimistic on the account)."""
        tx = Transaction()
        tx.delete("member", MemberItem(f"ACCOUNT#{membership.account_id}", f"MEMBER#{membership.user_id}"),
                  condition=MemberItem.role == membership.role)
        if remaining_owner_ids is not None:
            tx.update("account", _account_key(membership.account_id),
                      [AccountItem.owner_ids.set(remaining_owner_ids), AccountItem.version.add(1)],
                      condition=AccountItem.version == account_version)
        if membership.role == "authorized_user":
            _release_slot(tx, membership.account_id)
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise Conflict() from failed
