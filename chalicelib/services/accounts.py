"""Accounts: create, read, change by field group, close, and the permission checks a host app calls."""
from __future__ import annotations

from ..domain import accounts as rules
from ..domain import permissions
from ..domain.errors import ValidationFailed
from ..domain.model import Account, Actor, Membership, User
from . import audit, sessions
from .access import AccessContext, deny
from .deps import Deps
from .principal import Principal


def create(deps: Deps, principal: Principal, name: str, type_: str) -> tuple[Account, Membership, list[User]]:
    """A personal or business account; the caller is its one owner."""
    user = sessions.load_user(deps, principal)
    now = deps.clock.now()
    account = Account(account_id=deps.secrets.new_id("acc"), name=name, type=type_, created_at=now,
                      owner_ids=[user.user_id])
    owner = Membership(account.account_id, user.user_id, "owner", "active", now, email=user.email)
    actor = Actor(user.user_id, user.email)
    deps.store.create_account(account, owner, audit.event(
        deps, account.account_id, "account.created", actor, "account", account.account_id,
        name=name, type=type_))
    return account, owner, [user]


def owners(deps: Deps, account: Account) -> list[User]:
    found = deps.store.get_users(list(account.owner_ids))
    return [found[uid] for uid in account.owner_ids if uid in found]


def update(deps: Deps, ctx: AccessContext, body: dict) -> Account:
    """Change the field groups in `body`; all of them are allowed or nothing is written."""
    rules.require_open(ctx.account)
    groups = sorted(body)
    denied = rules.denied_field_groups(ctx.membership.role, ctx.membership.status, groups)
    if denied:
        raise deny(deps, ctx, rules.FIELD_GROUP_PERMISSION[denied[0]],
                   f"You do not have permission to change: {', '.join(denied)}.", fields=denied)
    changes: dict = {}
    if "name" in body:
        changes["name"] = body["name"]
    if "business_info" in body:
        changes["business_info"] = {**ctx.account.business_info, **body["business_info"]}
    if "account_info" in body:
        changes.update(body["account_info"])
    if "logo_url" in body:
        changes["logo_url"] = body["logo_url"]
    profile = (ctx.membership.user_id, body["owner_info"]) if "owner_info" in body else None
    event = audit.event(deps, ctx.account.account_id, "account.updated", ctx.actor, "account",
                        ctx.account.account_id, fields=groups)
    return deps.store.update_account(ctx.account, changes, event, profile)


def close(deps: Deps, ctx: AccessContext) -> None:
    rules.require_open(ctx.account)
    deps.store.close_account(ctx.account, audit.event(
        deps, ctx.account.account_id, "account.closed", ctx.actor, "account", ctx.account.account_id))


def check(ctx: AccessContext, action: str) -> bool:
    """The answer to `GET /permissions/{action}`; actions outside the matrix are a validation error."""
    if action not in permissions.ACCOUNT_ACTIONS:
        raise ValidationFailed(details={"action": "is not an action of the permission matrix"})
    return ctx.can(action)
