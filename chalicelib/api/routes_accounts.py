"""Accounts, their permissions, members and audit."""
from __future__ import annotations

from chalice import Blueprint

from ..domain import accounts as account_rules
from ..domain import permissions, scopes
from ..domain.errors import ValidationFailed
from ..services import accounts, audit, members
from . import budgets, present, schemas
from .budgets import Budget
from .http import AUTHENTICATED, endpoint
from .validation import parse_limit

bp = Blueprint(__name__)
PAGED = ("limit", "cursor")


def _account_view(call, account=None) -> dict:
    ctx = call.ctx
    account = account or ctx.account
    return present.account(account, accounts.owners(call.deps, account), ctx.membership, ctx.permissions)


@endpoint(bp, "/accounts", "POST", scope=AUTHENTICATED, budget=budgets.WRITE, body=schemas.CREATE_ACCOUNT,
          status=201, tag="accounts", summary="Create a personal or business account; the caller is its owner")
def create_account(call):
    account, owner = accounts.create(call.deps, call.ctx, call.body["name"], call.body["type"])
    return present.account(account, [call.ctx.user], owner, permissions.account_permissions(owner.role, owner.status))


@endpoint(bp, "/accounts/{account_id}", "GET", scope=scopes.account("account.view"), budget=budgets.READ,
          tag="accounts", summary="An account, its owners, and the caller's role and permissions in it")
def get_account(call):
    return _account_view(call)


@endpoint(bp, "/accounts/{account_id}", "PATCH", scope=scopes.account(*account_rules.ANY_UPDATE_PERMISSIONS),
          budget=Budget(reads=2, transactions=1), body=schemas.PATCH_ACCOUNT, tag="accounts",
          preauthorize=lambda call, raw: accounts.preauthorize_update(call.deps, call.ctx, raw),
          summary="Change field groups, each gated by its permission; 403 writes nothing")
def patch_account(call):
    return _account_view(call, accounts.update(call.deps, call.ctx, call.body))


@endpoint(bp, "/accounts/{account_id}", "DELETE", scope=scopes.account("account.close"),
          budget=Budget(reads=1, queries=1, transactions=6, note="the close, then its pending invitations revoked, "
                        "twenty a transaction (one Query page of at most a hundred)"),
          status=204, tag="accounts", summary="Close the account (owner only)")
def close_account(call):
    accounts.close(call.deps, call.ctx)


@endpoint(bp, "/accounts/{account_id}/permissions", "GET", scope=scopes.account("account.view"),
          budget=budgets.AUTH, tag="accounts",
          summary="The caller's role, status and every permission they hold on the account")
def get_permissions(call):
    m = call.ctx.membership
    return {"role": m.role, "status": m.status, "permissions": sorted(call.ctx.permissions)}


@endpoint(bp, "/accounts/{account_id}/permissions/{action}", "GET", scope=scopes.account("account.view"),
          budget=budgets.AUTH, tag="accounts",
          summary="Whether the caller may take one action of the matrix (e.g. money.withdraw)")
def check_permission(call):
    action = call.params["action"]
    return {"action": action, "allowed": accounts.check(call.ctx, action)}


@endpoint(bp, "/accounts/{account_id}/members", "GET", scope=scopes.account("members.view"),
          budget=Budget(reads=2, queries=1, note="names and last sign-in live on each person's profile, which "
                        "every sign-in updates: copying them into memberships would make sign-in a fan-out"),
          tag="members", query=("role", *PAGED), summary="Members of the account with their roles and last login (`?role=`)")
def list_members(call):
    limit, cursor = parse_limit(call.query)
    role = call.query.get("role")
    if role is not None and role not in permissions.MEMBER_ROLES:
        raise ValidationFailed(details={"role": "must be one of: " + ", ".join(permissions.MEMBER_ROLES)})
    page, users = members.list_page(call.deps, call.ctx, role, limit, cursor)
    return present.page([present.member(m, users.get(m.user_id)) for m in page.items], page.next_cursor)


@endpoint(bp, "/accounts/{account_id}/members/{user_id}", "DELETE", scope=scopes.account("account.view"),
          budget=budgets.WRITE_READ, status=204, tag="members",
          summary="Take a member's access back, or leave with `me`")
def remove_member(call):
    members.remove(call.deps, call.ctx, call.params["user_id"])


@endpoint(bp, "/accounts/{account_id}/audit", "GET", scope=scopes.account("audit.view"), budget=budgets.LIST,
          tag="audit", query=PAGED, summary="The account's audit events, newest first")
def list_audit(call):
    limit, cursor = parse_limit(call.query)
    page = audit.list_events(call.deps, "account", call.ctx.account.account_id, limit, cursor)
    return present.page([present.audit_event(e) for e in page.items], page.next_cursor)
