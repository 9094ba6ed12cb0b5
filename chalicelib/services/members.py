"""Members: list them, take access back, or leave. The removed person's next request is refused."""
from __future__ import annotations

import logging

from ..domain.accounts import require_open
from ..domain.errors import AuthorizedUserLimit, InvalidState, LastOwner, NotFound
from ..domain.invitations import ROLE_LABELS
from ..domain.model import Membership, Page, User
from ..domain.permissions import REMOVE_PERMISSION
from . import mail
from .access import AccountAccess, deny
from .deps import Deps
from .invitations import expiry

log = logging.getLogger(__name__)


def list_page(deps: Deps, ctx: AccountAccess, role: str | None, limit: int, cursor: str | None) -> tuple[Page, dict]:
    """One page of members and their profiles (names and last sign-in live on the profile)."""
    page = deps.store.accounts.list_members(ctx.account.account_id, role, limit, cursor)
    return page, deps.store.users.get_many([m.user_id for m in page.items])


def remove(deps: Deps, ctx: AccountAccess, user_id: str) -> None:
    """`me` (or one's own id) leaves; anyone else needs the matrix's remove permission for that role."""
    leaving = user_id in ("me", ctx.membership.user_id)
    if leaving and ctx.acting_for:
        raise NotFound()  # an advisor reaches the account through the firm; there is no membership to leave
    target = ctx.membership if leaving else deps.store.accounts.get_member(ctx.account.account_id, user_id)
    if target is None:
        if not all(ctx.can(p) for p in REMOVE_PERMISSION.values() if p):  # ids cannot be probed
            raise deny(deps, ctx, "members.remove", "You do not have permission to remove this member.",
                       user_id=user_id)
        raise NotFound()
    needed = REMOVE_PERMISSION.get(target.role)
    if not leaving and not (needed and ctx.can(needed)):
        may_remove_others = all(ctx.can(p) for p in REMOVE_PERMISSION.values() if p)  # (ids stay unprobeable)
        raise deny(deps, ctx, needed or "members.remove",
                   "An owner leaves an account by themselves; nobody can remove them." if may_remove_others
                   else "You do not have permission to remove this member.", user_id=target.user_id)
    if not leaving:
        require_open(ctx.account)  # anyone but the last owner may still leave a closed account
    remaining = None
    if target.role == "owner":
        remaining = [o for o in ctx.account.owner_ids if o != target.user_id]
        if not remaining:
            raise LastOwner()
    tx = deps.store.transaction()
    deps.store.accounts.remove_member(tx, target, remaining, ctx.account.version)
    deps.store.audit.add(tx, ctx.audit_event(deps, "member.left" if leaving else "member.removed", "user",
                                             target.user_id, role=target.role, email=target.email))
    tx.commit()
    if not leaving:
        try:
            mail.send(deps, "access_removed", target.email, [], account_name=ctx.account.name,
                      remover_name=ctx.membership.email)
        except Exception:
            log.exception("could not mail the removed member")


# Role changes by PATCH: the only two the contract allows, and the permission each needs.
ROLE_CHANGES = {("admin", "authorized_user"): "authorized_users.add", ("authorized_user", "admin"): "authorized_users.remove"}


def change_role(deps: Deps, ctx: AccountAccess, user_id: str, role: str) -> tuple[Membership, User | None]:
    """admin -> authorized_user (takes a slot, starts the application) or authorized_user -> admin (frees the
    slot, deletes the application); every other change is 409 invalid_state. Returns the member and profile."""
    target, profile = deps.store.member_and_profile(ctx.account.account_id,
                                                    ctx.membership.user_id if user_id == "me" else user_id)
    if target is None:
        raise NotFound()
    needed = ROLE_CHANGES.get((target.role, role))
    if needed is not None and not ctx.can(needed):
        raise deny(deps, ctx, needed, "Only the owner adds or removes authorized users.", user_id=target.user_id)
    if needed is None:
        raise InvalidState(f"A {ROLE_LABELS.get(target.role, target.role)} cannot be made "
                           f"{ROLE_LABELS.get(role, role)}: only admin and authorized user change into each other.")
    require_open(ctx.account)
    status = "application_required" if role == "authorized_user" else "active"
    for attempt in (1, 2):
        tx = deps.store.transaction()
        deps.store.accounts.change_role(tx, target, role, status)
        if role == "authorized_user":
            deps.store.accounts.take_slot(tx, ctx.account.account_id)
        else:
            deps.store.accounts.release_slot(tx, ctx.account.account_id)
        # a new application starts from nothing; the one of a past rejection (or a downgrade) goes
        deps.store.applications.remove(tx, ctx.account.account_id, target.user_id)
        deps.store.audit.add(tx, ctx.audit_event(deps, "member.role_changed", "user", target.user_id,
                                                 **{"from": target.role, "to": role}))
        try:
            tx.commit()
            break
        except AuthorizedUserLimit:  # an expired invitation may still hold the slot it no longer needs
            if attempt == 2 or not expiry.reclaim_slots(deps, ctx.account.account_id):
                raise
    try:
        mail.send(deps, "role_changed", target.email, [], account_name=ctx.account.name,
                  changer=ctx.user.display_name, from_label=ROLE_LABELS[target.role], to_label=ROLE_LABELS[role],
                  to_role=role)
    except Exception:
        log.exception("could not mail the member whose role changed")
    return Membership(target.account_id, target.user_id, role, status, target.joined_at, email=target.email), profile
