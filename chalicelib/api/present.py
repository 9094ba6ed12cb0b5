"""Domain objects to the contract's JSON shapes."""
from __future__ import annotations

from datetime import datetime

from ..domain import permissions
from ..domain.model import Account, AuditEvent, Membership, Partner, StaffMember, User


def ts(value: datetime | None) -> str | None:
    """ISO-8601 UTC with `Z`, seconds precision."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def user(u: User) -> dict:
    return {"user_id": u.user_id, "email": u.email, "first_name": u.first_name, "last_name": u.last_name,
            "last_login_at": ts(u.last_login_at), "mfa_enabled": u.mfa_enabled,
            "mfa_required": permissions.mfa_required(u.partner_roles), "recovery_codes_left": u.recovery_codes_left}


def owner(u: User, details: bool) -> dict:
    """An owner as the account shows them; their phone only to callers who may see the account's details."""
    data = {"user_id": u.user_id, "email": u.email, "first_name": u.first_name, "last_name": u.last_name}
    if details:
        data["phone"] = u.phone
    return data


def account(a: Account, owners: list[User], membership: Membership, permissions: frozenset[str]) -> dict:
    """The account; contact and business details only with `settings.details.view` (PERMISSIONS.md)."""
    details = "settings.details.view" in permissions
    data = {
        "account_id": a.account_id, "name": a.name, "type": a.type, "plan": a.plan, "status": a.status,
        "owners": [owner(u, details) for u in owners], "partner_id": a.partner_id,
        "logo_url": a.logo_url, "created_at": ts(a.created_at),
        "my_role": membership.role, "my_status": membership.status, "my_permissions": sorted(permissions),
    }
    if details:
        data["business_info"] = a.business_info
    return data


def member(m: Membership, u: User | None) -> dict:
    """A member as the members list shows it; names and last login come from the profile."""
    return {"user_id": m.user_id, "email": m.email, "first_name": u.first_name if u else "",
            "last_name": u.last_name if u else "", "role": m.role, "status": m.status,
            "joined_at": ts(m.joined_at), "last_login_at": ts(u.last_login_at) if u else None}


def partner(p: Partner, staff: StaffMember | None = None, permissions: list[str] | None = None) -> dict:
    data = {"partner_id": p.partner_id, "name": p.name, "created_at": ts(p.created_at)}
    if staff is not None:
        data["my_role"] = staff.role
        data["my_permissions"] = permissions or []
    return data


def staff_member(s: StaffMember, u: User | None) -> dict:
    return {"user_id": s.user_id, "email": s.email, "first_name": u.first_name if u else "",
            "last_name": u.last_name if u else "", "role": s.role, "joined_at": ts(s.joined_at),
            "mfa_enabled": bool(u and u.mfa_enabled)}


def audit_event(e: AuditEvent) -> dict:
    actor = e.actor.as_dict()
    data = {"event_id": e.event_id, "at": ts(e.at), "action": e.action, "actor": actor,
            "target": {"type": e.target_type, "id": e.target_id}, "details": e.details}
    if e.actor.acting_for:
        data["acting_for"] = {"partner_id": e.actor.acting_for}
    return data


def invitation(i, now) -> dict:
    return {
        "invitation_id": i.invitation_id, "account_id": i.account_id, "partner_id": i.partner_id,
        "email": i.email, "role": i.role, "first_name": i.first_name, "last_name": i.last_name,
        "status": i.effective_status(now), "delivery_status": i.delivery_status,
        "invited_by": {"user_id": i.invited_by_user_id, "name": i.invited_by_name},
        "created_at": ts(i.created_at), "last_sent_at": ts(i.last_sent_at), "send_count": i.send_count,
        "expires_at": ts(i.expires_at), "responded_at": ts(i.responded_at), "form_id": i.form_id,
        "message": i.message,
    }


def page(items: list, next_cursor: str | None) -> dict:
    return {"items": items, "next_cursor": next_cursor}
