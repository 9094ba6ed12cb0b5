"""Members: list them, take access back, or leave. The removed person's next request is refused."""
from __future__ import annotations

import logging

from ..domain.accounts import require_open
from ..domain.errors import LastOwner, NotFound
from ..domain.model import Page
from ..domain.permissions import REMOVE_PERMISSION
from . import mail
from .access import AccountAccess, deny
from .deps import Deps

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
        raise NotFound()
    needed = REMOVE_PERMISSION.get(target.role, "account.close")
    if not leaving and not ctx.can(needed):
        raise deny(deps, ctx, needed, f"You do not have permission to remove a member with the role {target.role}.",
                   user_id=target.user_id)
    require_open(ctx.account)
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
