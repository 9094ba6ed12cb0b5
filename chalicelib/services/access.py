"""Authorization on every request: the caller's membership is read each time, never trusted from a token."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from ..domain import permissions
from ..domain.errors import Forbidden, NotFound
from ..domain.model import Account, Actor, Membership, User
from . import audit, sessions
from .deps import Deps
from .principal import Principal

log = logging.getLogger(__name__)


@dataclass
class AccessContext:
    principal: Principal
    account: Account
    membership: Membership
    user: User | None = None  # the caller's profile, read in the same round trip

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.membership.user_id, email=self.membership.email)

    @property
    def permissions(self) -> frozenset[str]:
        return permissions.account_permissions(self.membership.role, self.membership.status)

    def can(self, action: str) -> bool:
        return action in self.permissions


def deny(deps: Deps, ctx: AccessContext, action: str, message: str | None = None, **details) -> Forbidden:
    """Record the refused attempt in the account's audit and return the error to raise."""
    try:
        deps.store.add_audit(audit.event(deps, ctx.account.account_id, "access.denied", ctx.actor,
                                         "account", ctx.account.account_id, permission=action, **details))
    except Exception:  # the refusal stands even if its record cannot be written
        log.exception("could not record access.denied")
    return Forbidden(message)


def authorize(deps: Deps, principal: Principal, account_id: str, any_of: str | frozenset[str]) -> AccessContext:
    """404 for a stranger (existence not revealed), 403 for a member without the permission."""
    wanted = frozenset([any_of]) if isinstance(any_of, str) else any_of
    account, membership, user = deps.store.load_access(account_id, principal.user_id)
    sessions.require_live(principal, user)
    if account is None or membership is None:
        log.info("stranger refused", extra={"account_id": account_id, "user_id": principal.user_id})
        raise NotFound()
    ctx = AccessContext(principal, account, membership, user)
    if not (ctx.permissions & wanted):
        raise deny(deps, ctx, sorted(wanted)[0] if len(wanted) == 1 else "|".join(sorted(wanted)))
    return ctx
