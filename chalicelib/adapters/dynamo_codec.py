"""Conversions between domain objects and table items (shared by the store's parts)."""
from __future__ import annotations

from ..domain.model import Account, Actor, AuditEvent, Membership, User
from .dynamo_models import AccountItem, AuditItem, MemberItem, UserItem

def _user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def _to_user(i: UserItem) -> User:
    return User(user_id=i.user_id, email=i.email, first_name=i.first_name, last_name=i.last_name,
                created_at=i.created_at, email_verified=i.email_verified, phone=i.phone,
                last_login_at=i.last_login_at, sessions_revoked_at=i.sessions_revoked_at)


def _to_account(i: AccountItem) -> Account:
    return Account(account_id=i.account_id, name=i.name, type=i.type, created_at=i.created_at, plan=i.plan,
                   status=i.status, owner_ids=list(i.owner_ids or []), partner_id=i.partner_id,
                   business_info=dict(i.business_info or {}), logo_url=i.logo_url,
                   authorized_user_slots=int(i.authorized_user_slots or 0), version=int(i.version or 0))


def _to_member(i: MemberItem) -> Membership:
    return Membership(account_id=i.account_id, user_id=i.user_id, role=i.role, status=i.status,
                      joined_at=i.joined_at, email=i.email)


def _account_item(a: Account) -> AccountItem:
    return AccountItem(f"ACCOUNT#{a.account_id}", "ACCOUNT", account_id=a.account_id, name=a.name, type=a.type,
                       plan=a.plan, status=a.status, owner_ids=a.owner_ids, partner_id=a.partner_id,
                       business_info=a.business_info, logo_url=a.logo_url,
                       authorized_user_slots=a.authorized_user_slots, created_at=a.created_at, version=a.version)


def _member_item(m: Membership) -> MemberItem:
    return MemberItem(f"ACCOUNT#{m.account_id}", f"MEMBER#{m.user_id}", gsi1pk=f"USER#{m.user_id}",
                      gsi1sk=f"ACCOUNT#{m.account_id}", account_id=m.account_id, user_id=m.user_id,
                      role=m.role, status=m.status, email=m.email, joined_at=m.joined_at)


def _audit_item(e: AuditEvent) -> AuditItem:
    return AuditItem(f"ACCOUNT#{e.account_id}", f"AUDIT#{e.at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{e.event_id}",
                     event_id=e.event_id, account_id=e.account_id, at=e.at, action=e.action,
                     actor={**e.actor.as_dict(), **({"acting_for": e.actor.acting_for} if e.actor.acting_for else {})},
                     target_type=e.target_type, target_id=e.target_id, details=e.details)


def _to_event(i: AuditItem) -> AuditEvent:
    a = i.actor or {}
    actor = Actor(a.get("user_id"), a.get("email"), bool(a.get("system")), a.get("acting_for"))
    return AuditEvent(i.event_id, i.account_id, i.at, i.action, actor, i.target_type, i.target_id, i.details or {})
