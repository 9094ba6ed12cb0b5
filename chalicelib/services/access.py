"""Authorization on every request, by the route's scope: one round trip, nothing trusted from a token.

Roles are read from the table each time (a removed member's next request is refused). A partner's
staff reach the firm's client accounts as `advisor`: the profile read with the account carries their
partner roles, so that too is one BatchGetItem, and their actor names the partner they act for.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..domain import permissions
from ..domain.errors import Forbidden, MfaRequired, NotFound, RateLimited
from ..domain.model import Account, Actor, Membership, Partner, StaffMember, User
from ..domain.scopes import Scope
from . import audit, sessions
from .deps import Deps
from .principal import Principal

log = logging.getLogger(__name__)


@dataclass
class UserAccess:
    """A signed-in user (scopes `authenticated` and `reviewer`)."""

    principal: Principal
    user: User

    @property
    def actor(self) -> Actor:
        return Actor(self.user.user_id, self.user.email)


@dataclass
class AccountAccess:
    """A member of the account, or partner staff acting as its advisor (`acting_for` is then the partner)."""

    principal: Principal
    user: User
    account: Account
    membership: Membership
    acting_for: str | None = None
    # Addresses the authorization read looked up on the way ({email: has a user}): see `authorize`.
    users_of_emails: dict = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor(self.membership.user_id, self.membership.email, acting_for=self.acting_for)

    @property
    def permissions(self) -> frozenset[str]:
        return permissions.account_permissions(self.membership.role, self.membership.status)

    def can(self, action: str) -> bool:
        return action in self.permissions

    def audit_event(self, deps: Deps, action: str, target_type: str, target_id: str, **details):
        return audit.account_event(deps, self.account.account_id, action, self.actor, target_type, target_id,
                                   **details)


@dataclass
class PartnerAccess:
    """A partner's staff member (`partner_admin` or `staff`)."""

    principal: Principal
    user: User
    partner: Partner
    staff: StaffMember
    users_of_emails: dict = field(default_factory=dict)  # as on AccountAccess

    @property
    def actor(self) -> Actor:
        return Actor(self.staff.user_id, self.staff.email, acting_for=self.partner.partner_id)

    def can(self, action: str) -> bool:
        return permissions.partner_can(self.staff.role, action)

    def audit_event(self, deps: Deps, action: str, target_type: str, target_id: str, **details):
        return audit.partner_event(deps, self.partner.partner_id, action, self.actor, target_type, target_id,
                                   **details)


def authorize(deps: Deps, scope: Scope, principal: Principal | None, params: dict, email: str | None = None):
    """The access context a scope gives the service, or 401/403/404 in the contract's order.

    `email`: an address the request names (the one invited), looked up in the same read that authorizes an
    account or partner route, so that the service knows whether it has a user without a call of its own."""
    if scope.kind in ("public", "local_only"):
        return None
    assert principal is not None
    if scope.kind == "account":
        return _account(deps, principal, params["account_id"], scope.actions, email)
    if scope.kind == "partner":
        leaving = scope.leaving and params.get("user_id") in ("me", principal.user_id)
        return _partner(deps, principal, params["partner_id"], scope.actions, email, leaving)
    user = sessions.load_user(deps, principal)
    if scope.kind == "reviewer" and not is_reviewer(deps, user):
        raise Forbidden("Only platform reviewers can do this.")
    return UserAccess(principal, user)


def is_reviewer(deps: Deps, user: User) -> bool:
    """A verified email on the platform's reviewer list (the list is configuration, never request data)."""
    return user.email_verified and user.email in deps.settings.reviewer_emails


def _account(deps: Deps, principal: Principal, account_id: str, wanted: frozenset[str],
             email: str | None = None) -> AccountAccess:
    """404 for a stranger (existence not revealed), 403 for a member without the permission."""
    account, membership, user, users_of_emails = deps.store.account_access(account_id, principal.user_id, email)
    user = sessions.require_live(principal, user)
    acting_for = None
    if account is not None and membership is None:
        membership, acting_for = _advisor(account, user), account.partner_id
    if account is None or membership is None:
        log.info("stranger refused", extra={"account_id": account_id, "user_id": principal.user_id})
        raise NotFound()
    ctx = AccountAccess(principal, user, account, membership, acting_for if membership.role == "advisor" else None,
                        users_of_emails)
    if ctx.acting_for:
        _require_mfa(deps, ctx, user.partner_roles.get(ctx.acting_for), wanted)
    if not (ctx.permissions & wanted):
        raise deny(deps, ctx, _name(wanted))
    return ctx


def _advisor(account: Account, user: User) -> Membership | None:
    """Partner staff reach their firm's client accounts: admins all of them, staff those assigned to them."""
    role = user.partner_roles.get(account.partner_id or "") if account.partner_id else None
    if role == "partner_admin" or (role == "staff" and user.user_id in account.assigned_staff):
        return Membership(account.account_id, user.user_id, "advisor", "active", account.created_at, email=user.email)
    return None


def _partner(deps: Deps, principal: Principal, partner_id: str, wanted: frozenset[str],
             email: str | None = None, leaving: bool = False) -> PartnerAccess:
    partner, staff, user, users_of_emails = deps.store.partner_access(partner_id, principal.user_id, email)
    user = sessions.require_live(principal, user)
    if partner is None or staff is None:
        log.info("stranger refused", extra={"partner_id": partner_id, "user_id": principal.user_id})
        raise NotFound()
    ctx = PartnerAccess(principal, user, partner, staff, users_of_emails)
    if not leaving:
        _require_mfa(deps, ctx, staff.role, wanted)
    if not any(ctx.can(action) for action in wanted):
        raise deny(deps, ctx, _name(wanted))
    return ctx


def _require_mfa(deps: Deps, ctx: AccountAccess | PartnerAccess, partner_role: str | None,
                 wanted: frozenset[str]) -> None:
    """A partner role that requires an authenticator app lets its holder in only once the app is on (read from
    the profile this request loaded: no call of its own). The enrolment routes are `authenticated`, not here."""
    if permissions.partner_role_requires(partner_role, permissions.MFA_TOTP) and not ctx.user.mfa_enabled:
        raise deny(deps, ctx, _name(wanted), error=MfaRequired, reason="mfa_required")


def _name(wanted: frozenset[str]) -> str:
    return "|".join(sorted(wanted))


def deny(deps: Deps, ctx: AccountAccess | PartnerAccess, action: str, message: str | None = None,
         error: type[Forbidden] = Forbidden, **details) -> Forbidden:
    """Record the refused attempt in the account's (or partner's) audit and return the error to raise.

    Repeats are collapsed: one `access.denied` per member, permission and minute (the event and its counter
    in one transaction), so a member who keeps trying cannot push the owner's events off the first page."""
    from . import ratelimit

    target = ("account", ctx.account.account_id) if isinstance(ctx, AccountAccess) else ("partner",
                                                                                           ctx.partner.partner_id)
    tx = deps.store.transaction()
    deps.store.audit.add(tx, ctx.audit_event(deps, "access.denied", *target, permission=action, **details))
    ratelimit.charge(deps, tx, ratelimit.Limit(f"denied:{target[1]}:{ctx.user.user_id}:{action}",
                                               deps.settings.denials_per_member_per_minute, 60))
    try:
        tx.commit()
    except RateLimited:
        log.info("access.denied not recorded again this minute", extra={"permission": action})
    except Exception:  # the refusal stands even if its record cannot be written
        log.exception("could not record access.denied")
    return error(message)
