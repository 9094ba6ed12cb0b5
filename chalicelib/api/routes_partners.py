"""Partner firms and their staff: create a firm, invite staff through the same link flow, list and remove them."""
from __future__ import annotations

from chalice import Blueprint

from ..domain import permissions, scopes
from ..services import audit, partners
from ..services.invitations import inviter
from . import budgets, present, schemas
from .budgets import Budget
from .http import AUTHENTICATED, endpoint
from .routes_invitations import invitation_page, now, preauthorize_invite
from .validation import parse_limit

bp = Blueprint(__name__)
PAGED = ("limit", "cursor")
STAFF_MANAGE = scopes.partner("staff.manage")


def _partner_view(ctx) -> dict:
    granted = sorted(a for a in permissions.PARTNER_ACTIONS if ctx.can(a))
    return present.partner(ctx.partner, ctx.staff, granted)


@endpoint(bp, "/partners", "POST", scope=AUTHENTICATED, budget=budgets.WRITE, body=schemas.CREATE_PARTNER,
          status=201, tag="partners", summary="Create a partner firm; the caller is its partner admin")
def create_partner(call):
    partner, admin = partners.create(call.deps, call.ctx, call.body["name"])
    return present.partner(partner, admin, sorted(a for a in permissions.PARTNER_ACTIONS
                                                  if permissions.partner_can(admin.role, a)))


@endpoint(bp, "/partners/{partner_id}", "GET", scope=scopes.partner("partner.view"), budget=budgets.AUTH,
          tag="partners", summary="A partner firm and the caller's role in it")
def get_partner(call):
    return _partner_view(call.ctx)


@endpoint(bp, "/partners/{partner_id}/staff", "GET", scope=scopes.partner("partner.view"),
          budget=Budget(reads=2, queries=1, note="names live on each person's profile"), tag="partners",
          query=PAGED, summary="The firm's staff and their partner roles")
def list_staff(call):
    limit, cursor = parse_limit(call.query)
    page, users = partners.list_staff(call.deps, call.ctx, limit, cursor)
    return present.page([present.staff_member(s, users.get(s.user_id)) for s in page.items], page.next_cursor)


@endpoint(bp, "/partners/{partner_id}/staff/{user_id}", "DELETE", scope=scopes.partner("partner.view", leaving=True),
          budget=budgets.WRITE_READ, status=204, tag="partners",
          summary="Remove a staff member (partner admins), or leave with `me` (no authenticator app needed to leave); "
                  "the last partner admin stays")
def remove_staff(call):
    partners.remove_staff(call.deps, call.ctx, call.params["user_id"])


@endpoint(bp, "/partners/{partner_id}/staff/invitations", "POST", scope=STAFF_MANAGE, budget=budgets.MAILED_WRITE,
          body=schemas.STAFF_INVITATION, status=201, tag="partners", preauthorize=preauthorize_invite,
          looks_up="email",
          summary="Invite a staff member by email (accepted through the same link flow as account invitations)")
def invite_staff(call):
    return present.invitation(inviter.create(call.deps, call.ctx, call.body), now(call))


@endpoint(bp, "/partners/{partner_id}/staff/invitations", "GET", scope=STAFF_MANAGE, budget=budgets.LIST,
          tag="partners", query=("status", *PAGED), summary="The firm's staff invitations, newest first, by status")
def list_staff_invitations(call):
    return invitation_page(call)


@endpoint(bp, "/partners/{partner_id}/staff/invitations/{invitation_id}", "GET", scope=STAFF_MANAGE,
          budget=budgets.READ, tag="partners", summary="One staff invitation")
def get_staff_invitation(call):
    return present.invitation(inviter.get(call.deps, call.ctx, call.params["invitation_id"]), now(call))


@endpoint(bp, "/partners/{partner_id}/staff/invitations/{invitation_id}/resend", "POST", scope=STAFF_MANAGE,
          budget=budgets.MAILED_WRITE_READ, body=schemas.RESEND, tag="partners",
          summary="Mail a new link for a staff invitation")
def resend_staff_invitation(call):
    return present.invitation(inviter.resend(call.deps, call.ctx, call.params["invitation_id"],
                                             call.body.get("confirm_address", False)), now(call))


@endpoint(bp, "/partners/{partner_id}/staff/invitations/{invitation_id}", "DELETE", scope=STAFF_MANAGE,
          budget=budgets.WRITE_READ, status=204, tag="partners", summary="Revoke a pending staff invitation")
def revoke_staff_invitation(call):
    inviter.revoke(call.deps, call.ctx, call.params["invitation_id"])


@endpoint(bp, "/partners/{partner_id}/audit", "GET", scope=scopes.partner("audit.view"), budget=budgets.LIST,
          tag="partners", query=PAGED, summary="The firm's own audit events, newest first")
def partner_audit(call):
    limit, cursor = parse_limit(call.query)
    page = audit.list_events(call.deps, "partner", call.ctx.partner.partner_id, limit, cursor)
    return present.page([present.audit_event(e) for e in page.items], page.next_cursor)
