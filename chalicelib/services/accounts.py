"""Accounts: create, read, change by field group, close, and the permission checks a host app calls."""
from __future__ import annotations

from ..domain import accounts as rules
from ..domain import permissions
from ..domain.errors import Conflict, ValidationFailed
from ..domain.model import Account, Membership, User
from . import audit, ratelimit
from .access import AccountAccess, UserAccess, deny
from .deps import Deps


def creations_limit(deps: Deps, user_id: str) -> ratelimit.Limit:
    """Accounts and partner firms one user creates per day (counted only when one is created)."""
    return ratelimit.Limit(f"creations:user:{user_id}", deps.settings.accounts_per_user_per_day, 86400)


def create(deps: Deps, ctx: UserAccess, name: str, type_: str) -> tuple[Account, Membership]:
    """A personal or business account; the caller is its one owner (a limited number a day)."""
    user, now = ctx.user, deps.clock.now()
    account = Account(account_id=deps.secrets.new_id("acc"), name=name, type=type_, created_at=now,
                      owner_ids=[user.user_id])
    owner = Membership(account.account_id, user.user_id, "owner", "active", now, email=user.email)
    tx = deps.store.transaction()
    deps.store.accounts.add(tx, account, owner)
    deps.store.audit.add(tx, audit.account_event(deps, account.account_id, "account.created", ctx.actor, "account",
                                                 account.account_id, name=name, type=type_))
    ratelimit.charge(deps, tx, creations_limit(deps, user.user_id))
    tx.commit()
    return account, owner


def owners(deps: Deps, account: Account) -> list[User]:
    found = deps.store.users.get_many(list(account.owner_ids))
    return [found[uid] for uid in account.owner_ids if uid in found]


def preauthorize_update(deps: Deps, ctx: AccountAccess, raw: dict) -> None:
    """Before the body is validated: a field group named in it that the caller may not change is 403 at once."""
    groups = sorted(g for g in raw if g in rules.FIELD_GROUP_PERMISSION)
    denied = rules.denied_field_groups(ctx.membership.role, ctx.membership.status, groups)
    if denied:
        raise deny(deps, ctx, rules.FIELD_GROUP_PERMISSION[denied[0]],
                   f"You do not have permission to change: {', '.join(denied)}.", fields=denied)


def update(deps: Deps, ctx: AccountAccess, body: dict) -> Account:
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
    tx = deps.store.transaction()
    if "owner_info" in body:
        deps.store.users.update_profile(tx, ctx.membership.user_id, body["owner_info"])
    deps.store.accounts.update(tx, ctx.account, changes)
    deps.store.audit.add(tx, ctx.audit_event(deps, "account.updated", "account", ctx.account.account_id,
                                             fields=groups))
    tx.commit()
    account = ctx.account
    for key, value in changes.items():
        setattr(account, key, value)
    account.version += 1
    return account


def close(deps: Deps, ctx: AccountAccess) -> None:
    """Close the account, then revoke its pending invitations (each audited): no link to it invites any more."""
    rules.require_open(ctx.account)
    tx = deps.store.transaction()
    deps.store.accounts.close(tx, ctx.account)
    deps.store.audit.add(tx, ctx.audit_event(deps, "account.closed", "account", ctx.account.account_id))
    tx.commit()
    now = deps.clock.now()
    pending = [i for i in deps.store.invitations.list("account", ctx.account.account_id, "pending", now,
                                                      CLOSE_BATCH * 5, None).items if i.status == "pending"]
    for start in range(0, len(pending), CLOSE_BATCH):
        batch = pending[start:start + CLOSE_BATCH]
        try:
            _revoke_for_closing(deps, ctx, batch, now)
        except Conflict:  # one of them was accepted or declined meanwhile: the others one by one
            for inv in batch:
                try:
                    _revoke_for_closing(deps, ctx, [inv], now)
                except Conflict:
                    pass  # its own outcome stands (an acceptance into a closed account is refused anyway)


CLOSE_BATCH = 20  # invitations revoked per transaction (each is four writes; DynamoDB takes 100 a transaction)


def _revoke_for_closing(deps: Deps, ctx: AccountAccess, batch: list, now) -> None:
    tx = deps.store.transaction()
    for inv in batch:
        deps.store.invitations.close(tx, inv, "revoked", now)
        deps.store.audit.add(tx, ctx.audit_event(deps, "invitation.revoked", "invitation", inv.invitation_id,
                                                 email=inv.email, role=inv.role, reason="account_closed"))
    slots = sum(1 for inv in batch if inv.role == "authorized_user")
    if slots:
        deps.store.accounts.release_slot(tx, ctx.account.account_id, slots)
    tx.commit()


def check(ctx: AccountAccess, action: str) -> bool:
    """The answer to `GET /permissions/{action}`; actions outside the matrix are a validation error."""
    if action not in permissions.ACCOUNT_ACTIONS:
        raise ValidationFailed(details={"action": "is not an action of the permission matrix"})
    return ctx.can(action)
