"""Accounts and their memberships: the account item with its counters, members, and the email seats."""
from __future__ import annotations

from ...domain.invitations import AUTHORIZED_USER_SLOTS
from ...domain.model import Account, Membership, Page
from . import keys, table
from .cursors import Cursors
from .models import AccountItem, ApplicationItem, MemberItem, SeatItem
from .unit_of_work import UnitOfWork


def to_account(i: AccountItem) -> Account:
    return Account(account_id=i.account_id, name=i.name, type=i.type, created_at=i.created_at, plan=i.plan,
                   status=i.status, owner_ids=list(i.owner_ids or []), partner_id=i.partner_id,
                   assigned_staff=list(i.assigned_staff or []), business_info=dict(i.business_info or {}),
                   logo_url=i.logo_url, authorized_user_slots=int(i.authorized_user_slots or 0),
                   version=int(i.version or 0))


def to_member(i: MemberItem) -> Membership:
    return Membership(account_id=i.account_id, user_id=i.user_id, role=i.role, status=i.status,
                      joined_at=i.joined_at, email=i.email)


def _account_key(account_id: str) -> AccountItem:
    return AccountItem(*keys.account(account_id))


def member_item(m: Membership) -> MemberItem:
    return MemberItem(*keys.member(m.account_id, m.user_id), gsi1pk=keys.by_email(m.email),
                      gsi1sk=keys.account_pk(m.account_id), gsi3pk=keys.members_by_role(m.account_id, m.role),
                      gsi3sk=keys.MEMBER + m.user_id, account_id=m.account_id, user_id=m.user_id, role=m.role,
                      status=m.status, email=m.email, joined_at=m.joined_at)


def seat_for_member(parent: str, email: str, user_id: str) -> SeatItem:
    return SeatItem(*keys.seat(parent, email), state="member", user_id=user_id)


class Accounts:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, account_id: str) -> Account | None:
        item = table.get(AccountItem, *keys.account(account_id))
        return to_account(item) if item else None

    def get_many(self, account_ids: list[str]) -> dict[str, Account]:
        return {i.account_id: to_account(i) for i in table.batch_get([keys.account(a) for a in account_ids])
                if isinstance(i, AccountItem)}

    def get_member(self, account_id: str, user_id: str) -> Membership | None:
        item = table.get(MemberItem, *keys.member(account_id, user_id))
        return to_member(item) if item else None

    def list_members(self, account_id: str, role: str | None, limit: int, cursor: str | None) -> Page:
        """One Query page: all members by user id, or one role's through the sparse list index."""
        scope = f"members:{account_id}:{role or '*'}"
        start = self._cursors.decode(scope, cursor)
        if role:
            items, last = table.query_page(keys.members_by_role(account_id, role), index="gsi3", limit=limit,
                                           start_key=start)
        else:
            items, last = table.query_page(keys.account_pk(account_id), MemberItem.sk.startswith(keys.MEMBER),
                                           limit=limit, start_key=start)
        return Page([to_member(i) for i in items], self._cursors.encode(scope, last))

    # writes -------------------------------------------------------------------------------------
    def add(self, tx: UnitOfWork, account: Account, owner: Membership | None) -> None:
        """A new account with its first owner (a client account starts with none: its owners activate later)."""
        tx.put("account.new", AccountItem(
            *keys.account(account.account_id), account_id=account.account_id, name=account.name, type=account.type,
            plan=account.plan, status=account.status, owner_ids=account.owner_ids, partner_id=account.partner_id,
            assigned_staff=account.assigned_staff, business_info=account.business_info, logo_url=account.logo_url,
            authorized_user_slots=account.authorized_user_slots, created_at=account.created_at,
            version=account.version), condition=AccountItem.pk.does_not_exist())
        if owner is not None:
            self.add_member(tx, owner)

    def update(self, tx: UnitOfWork, account: Account, changes: dict) -> None:
        """Optimistic: holds only if nobody changed the account since it was read, and it is open."""
        actions = [getattr(AccountItem, k).set(v) for k, v in changes.items()]
        actions.append(AccountItem.version.set(account.version + 1))
        tx.update("account.version", _account_key(account.account_id), actions,
                  condition=(AccountItem.version == account.version) & (AccountItem.status == "active"))

    def close(self, tx: UnitOfWork, account: Account) -> None:
        tx.update("account.open", _account_key(account.account_id),
                  [AccountItem.status.set("closed"), AccountItem.version.add(1)],
                  condition=AccountItem.status == "active")

    def require_open(self, tx: UnitOfWork, account_id: str) -> None:
        tx.check("account.open", AccountItem, *keys.account(account_id), AccountItem.status == "active")

    def add_member(self, tx: UnitOfWork, membership: Membership) -> None:
        """The membership and its email seat (a pending invitation's seat becomes the member's)."""
        tx.put("member.new", member_item(membership), condition=MemberItem.pk.does_not_exist())
        tx.put("seat", seat_for_member(keys.account_pk(membership.account_id), membership.email, membership.user_id),
               condition=SeatItem.pk.does_not_exist() | (SeatItem.state == "invited"))

    def add_owner(self, tx: UnitOfWork, account_id: str, user_id: str) -> None:
        """A co-owner joins a client group: the owner list grows in the same transaction."""
        tx.update("account.open", _account_key(account_id),
                  [AccountItem.owner_ids.set(AccountItem.owner_ids.append([user_id])), AccountItem.version.add(1)],
                  condition=AccountItem.status == "active")

    def remove_member(self, tx: UnitOfWork, membership: Membership, remaining_owner_ids: list[str] | None,
                      account_version: int) -> None:
        """Delete the membership and its seat; free its slot; keep at least one owner (optimistic)."""
        tx.delete("member.role", MemberItem(*keys.member(membership.account_id, membership.user_id)),
                  condition=MemberItem.role == membership.role)
        tx.delete("seat.member", SeatItem(*keys.seat(keys.account_pk(membership.account_id), membership.email)))
        if remaining_owner_ids is not None:
            tx.update("account.version", _account_key(membership.account_id),
                      [AccountItem.owner_ids.set(remaining_owner_ids), AccountItem.version.add(1)],
                      condition=AccountItem.version == account_version)
        elif membership.role == "authorized_user":
            self.release_slot(tx, membership.account_id)
            tx.delete("application.removed", ApplicationItem(*keys.application(membership.account_id,
                                                                                 membership.user_id)))

    def change_role(self, tx: UnitOfWork, membership: Membership, role: str, status: str) -> None:
        """The member's role and status, if they are still what the caller read (condition `member.state`)."""
        tx.update("member.state", MemberItem(*keys.member(membership.account_id, membership.user_id)), [
            MemberItem.role.set(role), MemberItem.status.set(status),
            MemberItem.gsi3pk.set(keys.members_by_role(membership.account_id, role))],
            condition=(MemberItem.role == membership.role) & (MemberItem.status == membership.status))

    def require_member(self, tx: UnitOfWork, membership: Membership) -> None:
        """Holds only while the member's role and status are what the caller read."""
        tx.check("member.state", MemberItem, *keys.member(membership.account_id, membership.user_id),
                 (MemberItem.role == membership.role) & (MemberItem.status == membership.status))

    def take_slot(self, tx: UnitOfWork, account_id: str) -> None:
        """Reserve one of the account's two authorized-user slots (condition `slot.take`; also: the account is open)."""
        tx.update("slot.take", _account_key(account_id), [AccountItem.authorized_user_slots.add(1)],
                  condition=(AccountItem.status == "active")
                  & (AccountItem.authorized_user_slots < AUTHORIZED_USER_SLOTS))

    def release_slot(self, tx: UnitOfWork, account_id: str, count: int = 1) -> None:
        tx.update("slot.release", _account_key(account_id), [AccountItem.authorized_user_slots.add(-count)],
                  condition=AccountItem.authorized_user_slots >= count)
