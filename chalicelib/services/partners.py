"""Partner firms: create one (the caller becomes its partner admin), read it, list and remove staff."""
from __future__ import annotations

from ..domain.errors import LastOwner, NotFound
from ..domain.model import Page, Partner, StaffMember
from . import audit, ratelimit
from .access import PartnerAccess, UserAccess, deny
from .accounts import creations_limit
from .deps import Deps


def create(deps: Deps, ctx: UserAccess, name: str) -> tuple[Partner, StaffMember]:
    now = deps.clock.now()
    partner = Partner(partner_id=deps.secrets.new_id("prt"), name=name, created_at=now, admin_count=1)
    admin = StaffMember(partner.partner_id, ctx.user.user_id, "partner_admin", ctx.user.email, now)
    tx = deps.store.transaction()
    deps.store.partners.add(tx, partner)
    deps.store.partners.add_staff(tx, admin, count_admin=False)  # counted in the partner item itself
    deps.store.users.set_partner_role(tx, admin.user_id, partner.partner_id, admin.role)
    deps.store.audit.add(tx, audit.partner_event(deps, partner.partner_id, "partner.created", ctx.actor,
                                                 "partner", partner.partner_id, name=name))
    ratelimit.charge(deps, tx, creations_limit(deps, ctx.user.user_id))
    tx.commit()
    return partner, admin


def list_staff(deps: Deps, ctx: PartnerAccess, limit: int, cursor: str | None) -> tuple[Page, dict]:
    page = deps.store.partners.list_staff(ctx.partner.partner_id, limit, cursor)
    return page, deps.store.users.get_many([s.user_id for s in page.items])


def remove_staff(deps: Deps, ctx: PartnerAccess, user_id: str) -> None:
    """`me` leaves; a partner admin removes anyone. The last partner admin stays (409 last_owner)."""
    leaving = user_id in ("me", ctx.staff.user_id)
    if not leaving and not ctx.can("staff.manage"):
        raise deny(deps, ctx, "staff.manage", "Only a partner admin can remove staff.", user_id=user_id)
    target = ctx.staff if leaving else deps.store.partners.get_staff(ctx.partner.partner_id, user_id)
    if target is None:
        raise NotFound()
    if target.role == "partner_admin" and ctx.partner.admin_count <= 1:
        raise LastOwner("A partner keeps at least one partner admin.")
    tx = deps.store.transaction()
    deps.store.partners.remove_staff(tx, target)
    deps.store.users.set_partner_role(tx, target.user_id, target.partner_id, None)
    deps.store.audit.add(tx, ctx.audit_event(deps, "member.left" if leaving else "member.removed", "user",
                                             target.user_id, role=target.role, email=target.email))
    tx.commit()
