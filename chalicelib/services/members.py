"""Members: take access back, or leave. The removed person's next request is refused."""
from __future__ import annotations

import logging

from ..domain.accounts import require_open
from ..domain.errors import LastOwner, NotFound
from ..domain.permissions import REMOVE_PERMISSION
from . import audit, mail
from .access import AccessContext, deny
from .deps import Deps

log = logging.getLogger(__name__)


def remove(deps: Deps, ctx: AccessContext, user_id: str) -> None:
    """`me` (or one's own id) leaves; anyone else needs the matrix's remove permission for that role."""
    leaving = user_id in ("me", ctx.membership.user_id)
    target = ctx.membership if leaving else deps.store.get_membership(ctx.account.account_id, user_id)
    if target is None:
        raise NotFound()
    if not leaving and not ctx.can(REMOVE_PERMISSION.get(target.role, "account.close")):
        raise deny(deps, ctx, REMOVE_PERMISSION.get(target.role, "account.close"),
                   f"You do not have permission to remove a member with the role {target.role}.",
                   user_id=target.user_id)
    require_open(ctx.account)
    remaining = None
    if target.role == "owner":
        remaining = [o for o in ctx.account.owner_ids if o != target.user_id]
        if not remaining:
            raise LastOwner()
    action = "member.left" if leaving else "member.removed"
    event = audit.event(deps, ctx.account.account_id, action, ctx.actor, "user", target.user_id,
                        role=target.role, email=target.email)
    deps.store.remove_member(target, event, remaining, ctx.account.version)
    if not leaving:
        try:
            mail.send(deps, "access_removed", target.email, [], account_name=ctx.account.name,
                      remover_name=ctx.membership.email)
        except Exception:
            log.exception("could not mail the removed member")
