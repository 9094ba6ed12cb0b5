"""The Store in memory: same behaviour as DynamoStore, for fast service tests (a contract test runs both)."""
from __future__ import annotations

import copy
import threading
from datetime import datetime

from ..domain.errors import Conflict, UserExists
from ..domain.model import Account, AuditEvent, Membership, OneTimeToken, Page, User
from . import cursors
from .memory_invitations import MemoryInvitations


class MemoryStore(MemoryInvitations):
    def __init__(self) -> None:
        self._init_invitations()
        self._lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.emails: dict[str, str] = {}
        self.tokens: dict[str, OneTimeToken] = {}
        self.accounts: dict[str, Account] = {}
        self.members: dict[tuple[str, str], Membership] = {}
        self.audit: dict[str, list[AuditEvent]] = {}
        self.rates: dict[tuple[str, datetime], int] = {}
        self.calls = 0

    # users
    def create_user(self, user: User) -> None:
        with self._lock:
            if user.email in self.emails or user.user_id in self.users:
                raise UserExists()
            self.users[user.user_id] = copy.deepcopy(user)
            self.emails[user.email] = user.user_id

    def delete_user(self, user: User) -> None:
        with self._lock:
            self.users.pop(user.user_id, None)
            if self.emails.get(user.email) == user.user_id:
                del self.emails[user.email]

    def get_user(self, user_id: str) -> User | None:
        return copy.deepcopy(self.users.get(user_id))

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        return {u: copy.deepcopy(self.users[u]) for u in user_ids if u in self.users}

    def user_id_for_email(self, email: str) -> str | None:
        return self.emails.get(email)

    def mark_email_verified(self, user_id: str) -> None:
        if user_id in self.users:
            self.users[user_id].email_verified = True

    def revoke_sessions(self, user_id: str, at: datetime) -> None:
        if user_id in self.users:
            self.users[user_id].sessions_revoked_at = at

    def load_access(self, account_id: str, user_id: str):
        return self.get_account(account_id), self.get_membership(account_id, user_id), self.get_user(user_id)

    def record_login(self, user_id: str, at: datetime) -> None:
        if user_id in self.users:
            self.users[user_id].last_login_at = at

    def update_profile(self, user_id: str, changes: dict) -> None:
        if user_id in self.users:
            for key in ("first_name", "last_name", "phone"):
                if key in changes:
                    setattr(self.users[user_id], key, changes[key])

    # tokens
    def put_token(self, token: OneTimeToken) -> None:
        self.tokens[token.token_hash] = copy.deepcopy(token)

    def take_token(self, token_hash: str, purpose: str) -> OneTimeToken | None:
        with self._lock:
            token = self.tokens.get(token_hash)
            if token is None or token.purpose != purpose:
                return None
            return self.tokens.pop(token_hash)

    # accounts
    def create_account(self, account: Account, owner: Membership, event: AuditEvent) -> None:
        with self._lock:
            self.accounts[account.account_id] = copy.deepcopy(account)
            self.members[(owner.account_id, owner.user_id)] = copy.deepcopy(owner)
            self.audit.setdefault(event.account_id, []).append(event)

    def get_account(self, account_id: str) -> Account | None:
        return copy.deepcopy(self.accounts.get(account_id))

    def get_accounts(self, account_ids: list[str]) -> dict[str, Account]:
        return {a: copy.deepcopy(self.accounts[a]) for a in account_ids if a in self.accounts}

    def update_account(self, account: Account, changes: dict, event: AuditEvent, profile=None) -> Account:
        with self._lock:
            current = self.accounts.get(account.account_id)
            if current is None or current.version != account.version or current.status != "active":
                raise Conflict()
            for key, value in changes.items():
                setattr(current, key, copy.deepcopy(value))
            current.version += 1
            if profile:
                self.update_profile(*profile)
            self.audit.setdefault(event.account_id, []).append(event)
            return copy.deepcopy(current)

    def close_account(self, account: Account, event: AuditEvent) -> None:
        with self._lock:
            current = self.accounts.get(account.account_id)
            if current is None or current.status != "active":
                raise Conflict()
            current.status = "closed"
            current.version += 1
            self.audit.setdefault(event.account_id, []).append(event)

    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        return copy.deepcopy(self.members.get((account_id, user_id)))

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        found = [m for (a, u), m in self.members.items() if u == user_id]
        return copy.deepcopy(sorted(found, key=lambda m: m.account_id))

    @staticmethod
    def _page(items: list, key, prefix: str, limit: int, cursor: str | None, descending=False) -> Page:
        if cursor:
            after = cursors.decode(cursor, prefix)
            items = [i for i in items if (key(i) < after if descending else key(i) > after)]
        page = items[:limit]
        more = len(items) > limit
        return Page(copy.deepcopy(page), cursors.encode(key(page[-1])) if more else None)

    def list_members(self, account_id: str, limit: int, cursor: str | None, role: str | None = None) -> Page:
        members = sorted((m for (a, _), m in self.members.items() if a == account_id and role in (None, m.role)),
                         key=lambda m: m.user_id)
        return self._page(members, lambda m: f"MEMBER#{m.user_id}", "MEMBER#", limit, cursor)

    # audit
    def add_audit(self, event: AuditEvent) -> None:
        self.audit.setdefault(event.account_id, []).append(copy.deepcopy(event))

    def list_audit(self, account_id: str, limit: int, cursor: str | None) -> Page:
        def key(e: AuditEvent) -> str:
            return f"AUDIT#{e.at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{e.event_id}"
        events = sorted(self.audit.get(account_id, []), key=key, reverse=True)
        return self._page(events, key, "AUDIT#", limit, cursor, descending=True)

    # rate limits
    def count_hit(self, key: str, window_start: datetime, expires_at: datetime) -> int:
        with self._lock:
            self.rates[(key, window_start)] = self.rates.get((key, window_start), 0) + 1
            return self.rates[(key, window_start)]

    def hits_many(self, keys: list[str], window_start: datetime) -> dict[str, int]:
        return {k: self.rates[(k, window_start)] for k in keys if (k, window_start) in self.rates}

