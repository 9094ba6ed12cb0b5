"""The invitation half of the in-memory Store: the same conditions as the DynamoDB one, under one lock."""
from __future__ import annotations

import copy
import hmac
from datetime import datetime

from ..domain.errors import AlreadyMember, AuthorizedUserLimit, Conflict, InvalidState, InvitationPending
from ..domain.invitations import AUTHORIZED_USER_SLOTS, Invitation
from ..domain.model import AuditEvent, Membership, Page


class MemoryInvitations:
    invitations: dict[tuple[str, str], Invitation]
    pending: dict[tuple[str, str], str]
    invitation_tokens: dict[str, tuple[str, str]]

    def _init_invitations(self) -> None:
        self.invitations = {}
        self.pending = {}
        self.invitation_tokens = {}

    def _open_account(self, account_id: str):
        account = self.accounts.get(account_id)
        if account is None or account.status != "active":
            raise InvalidState("This account is closed.")
        return account

    def create_invitation(self, inv: Invitation, event: AuditEvent, existing_user_id: str | None) -> None:
        with self._lock:
            account = self._open_account(inv.account_id)
            if existing_user_id and (inv.account_id, existing_user_id) in self.members:
                raise AlreadyMember()
            if (inv.account_id, inv.email) in self.pending:
                raise InvitationPending()
            if inv.role == "authorized_user":
                if account.authorized_user_slots >= AUTHORIZED_USER_SLOTS:
                    raise AuthorizedUserLimit()
                account.authorized_user_slots += 1
            self.pending[(inv.account_id, inv.email)] = inv.invitation_id
            self.invitations[(inv.account_id, inv.invitation_id)] = copy.deepcopy(inv)
            self.invitation_tokens[inv.token_hash] = (inv.account_id, inv.invitation_id)
            self.audit.setdefault(event.account_id, []).append(event)

    def get_invitation(self, account_id: str, invitation_id: str) -> Invitation | None:
        return copy.deepcopy(self.invitations.get((account_id, invitation_id)))

    def invitation_for_token(self, token_hash: str) -> Invitation | None:
        key = self.invitation_tokens.get(token_hash)
        inv = self.invitations.get(key) if key else None
        if inv is None or not hmac.compare_digest(inv.token_hash, token_hash):
            return None
        return copy.deepcopy(inv)

    def list_invitations(self, account_id: str, status: str | None, now: datetime, limit: int,
                         cursor: str | None) -> Page:
        found = [i for (a, _), i in self.invitations.items() if a == account_id
                 and (status is None or i.effective_status(now) == status)]
        found.sort(key=lambda i: i.invitation_id, reverse=True)
        return self._page(found, lambda i: f"INVITE#{i.invitation_id}", "INVITE#", limit, cursor, descending=True)

    def pending_invitations_for_email(self, email: str) -> list[Invitation]:
        return [copy.deepcopy(i) for i in self.invitations.values() if i.email == email and i.status == "pending"]

    def due_invitations(self, now: datetime, limit: int) -> list[Invitation]:
        due = [i for i in self.invitations.values() if i.status == "pending" and i.expires_at < now]
        return copy.deepcopy(sorted(due, key=lambda i: i.expires_at)[:limit])

    def record_send(self, inv: Invitation, delivery_status: str) -> None:
        stored = self.invitations.get((inv.account_id, inv.invitation_id))
        if stored:
            stored.delivery_status = delivery_status

    def accept_invitation(self, inv: Invitation, membership: Membership, events: list[AuditEvent],
                          now: datetime) -> None:
        with self._lock:
            stored = self.invitations[(inv.account_id, inv.invitation_id)]
            if stored.status != "pending" or stored.expires_at <= now or stored.token_hash != inv.token_hash:
                raise Conflict()
            if (membership.account_id, membership.user_id) in self.members:
                raise AlreadyMember()
            account = self._open_account(inv.account_id)
            stored.status, stored.responded_at = "accepted", now
            self.members[(membership.account_id, membership.user_id)] = copy.deepcopy(membership)
            self.pending.pop((inv.account_id, inv.email), None)
            if inv.role == "owner":
                account.owner_ids.append(membership.user_id)
                account.version += 1
            self.audit.setdefault(inv.account_id, []).extend(events)

    def close_invitation(self, inv: Invitation, status: str, now: datetime, event: AuditEvent,
                         token_hash: str | None = None) -> None:
        with self._lock:
            stored = self.invitations[(inv.account_id, inv.invitation_id)]
            due = stored.expires_at <= now
            if stored.status != "pending" or due != (status == "expired") \
                    or (token_hash and stored.token_hash != token_hash):
                raise Conflict()
            stored.status = status
            if status != "expired":
                stored.responded_at = now
            self.pending.pop((inv.account_id, inv.email), None)
            if inv.role == "authorized_user":
                self.accounts[inv.account_id].authorized_user_slots -= 1
            self.audit.setdefault(inv.account_id, []).append(event)

    def resend_invitation(self, inv: Invitation, old_token_hash: str, event: AuditEvent, revived: bool) -> None:
        with self._lock:
            stored = self.invitations[(inv.account_id, inv.invitation_id)]
            if stored.status != ("expired" if revived else "pending") or stored.token_hash != old_token_hash:
                raise Conflict()
            if revived:
                if (inv.account_id, inv.email) in self.pending:
                    raise InvitationPending()
                if inv.role == "authorized_user":
                    account = self._open_account(inv.account_id)
                    if account.authorized_user_slots >= AUTHORIZED_USER_SLOTS:
                        raise AuthorizedUserLimit()
                    account.authorized_user_slots += 1
                self.pending[(inv.account_id, inv.email)] = inv.invitation_id
            self.invitation_tokens.pop(old_token_hash, None)
            self.invitation_tokens[inv.token_hash] = (inv.account_id, inv.invitation_id)
            stored.status, stored.token_hash, stored.expires_at = "pending", inv.token_hash, inv.expires_at
            stored.last_sent_at, stored.send_count, stored.delivery_status = inv.last_sent_at, stored.send_count + 1, "queued"
            self.audit.setdefault(inv.account_id, []).append(event)

    def remove_member(self, membership: Membership, event: AuditEvent, remaining_owner_ids: list[str] | None,
                      account_version: int) -> None:
        with self._lock:
            current = self.members.get((membership.account_id, membership.user_id))
            account = self.accounts[membership.account_id]
            if current is None or current.role != membership.role:
                raise Conflict()
            if remaining_owner_ids is not None:
                if account.version != account_version:
                    raise Conflict()
                account.owner_ids = list(remaining_owner_ids)
                account.version += 1
            if membership.role == "authorized_user":
                account.authorized_user_slots -= 1
            del self.members[(membership.account_id, membership.user_id)]
            self.audit.setdefault(membership.account_id, []).append(event)
