"""Invitations, inviter side and invitee side. Each state change is one conditional transaction."""
from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from ..domain import invitations as rules
from ..domain.accounts import require_open
from ..domain.emails import normalize_email
from ..domain.errors import (AuthorizedUserLimit, Conflict, EmailMismatch, EmailNotVerified,
                             Forbidden, InvalidState, NotFound, RateLimited)
from ..domain.invitations import Invitation
from ..domain.model import Actor, Membership, User
from ..domain.permissions import INVITE_PERMISSION
from . import audit, mail, ratelimit, sessions
from .access import AccessContext, deny
from .deps import Deps
from .ports import SignInTokens
from .principal import Principal
from .tokens import token_hash

log = logging.getLogger(__name__)

ROLE_LABELS = {"collaborator": "collaborator", "admin": "admin", "authorized_user": "authorized user",
               "guest": "guest", "owner": "co-owner", "advisor": "advisor"}
INVITES_PER_INVITER_PER_DAY = 100
INVITES_PER_ACCOUNT_PER_DAY = 200
LOOKUP_MISSES_PER_MINUTE = 30


# inviter side ----------------------------------------------------------------------------------
def _require_permission_for(deps: Deps, ctx: AccessContext, role: str) -> None:
    try:
        rules.require_may_invite(ctx.membership.role, ctx.membership.status, role)
    except Forbidden as exc:
        raise deny(deps, ctx, INVITE_PERMISSION[role], exc.message, role=role) from None


def create(deps: Deps, ctx: AccessContext, body: dict) -> Invitation:
    """Invite someone by email; the link is mailed, only its hash is kept."""
    role, email = body["role"], normalize_email(body["email"])
    _require_permission_for(deps, ctx, role)
    require_open(ctx.account)
    rules.require_role_fits_account(role, ctx.account.type)
    now = deps.clock.now()
    expires_at = rules.expiry(now, body.get("expires_in_days"))
    ratelimit.consume(deps, f"invite:user:{ctx.membership.user_id}", INVITES_PER_INVITER_PER_DAY, 86400)
    ratelimit.consume(deps, f"invite:account:{ctx.account.account_id}", INVITES_PER_ACCOUNT_PER_DAY, 86400)
    # A member already? The transaction checks it (condition `member`); no read needed first.
    existing_user_id = deps.store.user_id_for_email(email)
    inviter = ctx.user or deps.store.get_user(ctx.membership.user_id)
    raw = deps.secrets.token()
    inv = Invitation(
        invitation_id=deps.secrets.new_id("inv"), account_id=ctx.account.account_id, email=email, role=role,
        status="pending", invited_by_user_id=ctx.membership.user_id,
        invited_by_name=inviter.display_name if inviter else ctx.membership.email,
        account_name=ctx.account.name, created_at=now, expires_at=expires_at, last_sent_at=now, send_count=1,
        token_hash=token_hash(raw), first_name=body.get("first_name"), last_name=body.get("last_name"),
        message=body.get("message"), partner_id=ctx.account.partner_id,
        valid_days=body.get("expires_in_days") or rules.DEFAULT_DAYS)
    event = audit.event(deps, inv.account_id, "invitation.created", ctx.actor, "invitation", inv.invitation_id,
                        email=email, role=role)
    try:
        deps.store.create_invitation(inv, event, existing_user_id)
    except AuthorizedUserLimit:
        if not _reclaim_expired_slots(deps, inv.account_id):
            raise
        deps.store.create_invitation(inv, event, existing_user_id)
    _send(deps, inv, raw)
    return inv


def _reclaim_expired_slots(deps: Deps, account_id: str) -> bool:
    """An expired invitation stops holding its slot at expiry, even before the sweep: expire them now."""
    now = deps.clock.now()
    page = deps.store.list_invitations(account_id, "expired", now, 200, None)
    reclaimed = False
    for inv in page.items:
        if inv.status == "pending" and inv.role == "authorized_user":
            reclaimed |= _expire_one(deps, inv, now)
    return reclaimed


def _send(deps: Deps, inv: Invitation, raw_token: str) -> None:
    """Mail the link; a failed send leaves the invitation `queued` so it can be resent."""
    link = deps.settings.link(f"/i/{raw_token}")
    try:
        mail.send(deps, "invitation", inv.email, [link], inv=inv, link=link, role_label=ROLE_LABELS[inv.role],
                  expires_on=inv.expires_at.strftime("%-d %B %Y"))
    except Exception:
        log.exception("invitation mail failed", extra={"invitation_id": inv.invitation_id})
        return
    deps.store.record_send(inv, "sent")
    inv.delivery_status = "sent"


def get(deps: Deps, ctx: AccessContext, invitation_id: str) -> Invitation:
    inv = deps.store.get_invitation(ctx.account.account_id, invitation_id)
    if inv is None:
        raise NotFound()
    return inv


def resend(deps: Deps, ctx: AccessContext, invitation_id: str) -> Invitation:
    """A new link with a fresh expiry; earlier links stop working. 60 s cooldown between sends."""
    inv = get(deps, ctx, invitation_id)
    _require_permission_for(deps, ctx, inv.role)
    require_open(ctx.account)
    now = deps.clock.now()
    rules.require_resendable(inv, now)
    wait = rules.cooldown_left(inv, now)
    if wait:
        raise RateLimited(wait, "This invitation was sent less than a minute ago.")
    revived = inv.status == "expired"
    old_hash, raw = inv.token_hash, deps.secrets.token()
    inv.token_hash, inv.last_sent_at = token_hash(raw), now
    inv.expires_at = now + timedelta(days=inv.valid_days)
    event = audit.event(deps, inv.account_id, "invitation.resent", ctx.actor, "invitation", inv.invitation_id,
                        email=inv.email, role=inv.role)
    try:
        deps.store.resend_invitation(inv, old_hash, event, revived)
    except AuthorizedUserLimit:
        if not _reclaim_expired_slots(deps, inv.account_id):
            raise
        deps.store.resend_invitation(inv, old_hash, event, revived)
    except Conflict:
        raise RateLimited(60, "This invitation was just changed; try again in a minute.") from None
    inv.status, inv.send_count, inv.delivery_status = "pending", inv.send_count + 1, "queued"
    _send(deps, inv, raw)
    return inv


def revoke(deps: Deps, ctx: AccessContext, invitation_id: str) -> None:
    inv = get(deps, ctx, invitation_id)
    _require_permission_for(deps, ctx, inv.role)
    now = deps.clock.now()
    rules.require_revocable(inv, now)
    event = audit.event(deps, inv.account_id, "invitation.revoked", ctx.actor, "invitation", inv.invitation_id,
                        email=inv.email, role=inv.role)
    try:
        deps.store.close_invitation(inv, "revoked", now, event)
    except Conflict:
        raise InvalidState("Only pending invitations can be revoked.") from None


# invitee side ------------------------------------------------------------------------------------
def lookup(deps: Deps, raw_token: str, source_ip: str | None) -> Invitation:
    """The invitation of a link; unknown links are counted per source (at most 30 a minute)."""
    key = f"token-miss:{source_ip}"
    ratelimit.check(deps, key, LOOKUP_MISSES_PER_MINUTE, 60)
    inv = deps.store.invitation_for_token(token_hash(raw_token))
    if inv is None:
        ratelimit.hit(deps, key, LOOKUP_MISSES_PER_MINUTE, 60)
        raise NotFound("This invitation link is not valid. Ask for a new invitation.")
    return inv


def _raise_current_state(deps: Deps, inv: Invitation) -> None:
    fresh = deps.store.get_invitation(inv.account_id, inv.invitation_id)
    if fresh is None or not hmac.compare_digest(fresh.token_hash, inv.token_hash):
        raise NotFound("This invitation link is not valid. Ask for a new invitation.")
    rules.require_usable(fresh, deps.clock.now())


def _join(deps: Deps, inv: Invitation, user: User) -> Membership:
    now = deps.clock.now()
    membership = Membership(inv.account_id, user.user_id, inv.role, rules.member_status_for(inv.role), now,
                            email=user.email)
    actor = Actor(user.user_id, user.email)
    events = [
        audit.event(deps, inv.account_id, "invitation.accepted", actor, "invitation", inv.invitation_id,
                    email=inv.email, role=inv.role),
        audit.event(deps, inv.account_id, "member.added", actor, "user", user.user_id, role=inv.role,
                    invitation_id=inv.invitation_id),
    ]
    try:
        deps.store.accept_invitation(inv, membership, events, now)
    except Conflict:
        _raise_current_state(deps, inv)
        raise
    _tell_inviter(deps, inv, user)
    return membership


def _tell_inviter(deps: Deps, inv: Invitation, user: User) -> None:
    """The inviter learns that access was taken up (best effort: the acceptance stands either way)."""
    try:
        inviter = deps.store.get_user(inv.invited_by_user_id)
        if inviter is not None:
            mail.send(deps, "invitation_accepted", inviter.email, [], inv=inv, who=user.display_name,
                      email=user.email, role_label=ROLE_LABELS[inv.role])
    except Exception:
        log.exception("could not tell the inviter", extra={"invitation_id": inv.invitation_id})


def accept(deps: Deps, principal: Principal, raw_token: str) -> tuple[Invitation, Membership]:
    """Signed in, with the invited (verified) email: becomes a member with the invitation's role."""
    inv = lookup(deps, raw_token, principal.source_ip)
    rules.require_usable(inv, deps.clock.now())
    user = sessions.load_user(deps, principal)
    if user.email != inv.email:
        raise EmailMismatch()
    if not user.email_verified:
        raise EmailNotVerified()
    return inv, _join(deps, inv, user)  # 409 already_member comes from the transaction


def _mine(deps: Deps, principal: Principal, invitation_id: str) -> tuple[Invitation, User]:
    """A pending invitation to the signed-in user's verified email, found by id (no link needed)."""
    user = sessions.load_user(deps, principal)
    if not user.email_verified:
        raise EmailNotVerified()
    found = next((i for i in deps.store.pending_invitations_for_email(user.email)
                  if i.invitation_id == invitation_id), None)
    inv = deps.store.get_invitation(found.account_id, invitation_id) if found else None
    if inv is None or inv.email != user.email:
        raise NotFound()
    return inv, user


def accept_mine(deps: Deps, principal: Principal, invitation_id: str) -> tuple[Invitation, Membership]:
    """Accept from inside the app: a verified email equal to the invited one proves the mailbox as the link does."""
    inv, user = _mine(deps, principal, invitation_id)
    rules.require_usable(inv, deps.clock.now())
    return inv, _join(deps, inv, user)


def decline_mine(deps: Deps, principal: Principal, invitation_id: str) -> None:
    inv, user = _mine(deps, principal, invitation_id)
    _decline(deps, inv, Actor(user.user_id, user.email))


def decline(deps: Deps, raw_token: str, source_ip: str | None) -> None:
    """No sign-in needed: the link itself is the proof."""
    inv = lookup(deps, raw_token, source_ip)
    _decline(deps, inv, Actor(None, inv.email))


def _decline(deps: Deps, inv: Invitation, actor: Actor) -> None:
    now = deps.clock.now()
    rules.require_usable(inv, now)
    event = audit.event(deps, inv.account_id, "invitation.declined", actor, "invitation",
                        inv.invitation_id, email=inv.email, role=inv.role)
    try:
        deps.store.close_invitation(inv, "declined", now, event, token_hash=inv.token_hash)
    except Conflict:
        _raise_current_state(deps, inv)
        raise


def activate(deps: Deps, raw_token: str, password: str, first_name: str | None, last_name: str | None,
             source_ip: str | None) -> tuple[SignInTokens, Invitation]:
    """A new person from the link: user created with the email verified, invitation accepted, signed in."""
    inv = lookup(deps, raw_token, source_ip)
    rules.require_usable(inv, deps.clock.now())
    user = User(user_id=deps.secrets.new_id("usr"), email=inv.email,
                first_name=first_name or inv.first_name or "", last_name=last_name or inv.last_name or "",
                created_at=deps.clock.now(), email_verified=True)
    deps.store.create_user(user)  # 409 user_exists when the email already has a user: nothing is created
    try:
        deps.identity.create_user(user.user_id, user.email, password, email_verified=True)
        try:
            _join(deps, inv, user)
        except Exception:
            deps.identity.delete_user(user.user_id)
            raise
    except Exception:
        deps.store.delete_user(user)  # a refused activation creates no user
        raise
    tokens = deps.identity.sign_in(user.user_id, password)
    deps.store.record_login(user.user_id, deps.clock.now())
    return tokens, inv


def pending_for(deps: Deps, email: str) -> list[Invitation]:
    now = deps.clock.now()
    return [i for i in deps.store.pending_invitations_for_email(email) if i.effective_status(now) == "pending"]


# the sweep -----------------------------------------------------------------------------------------
def _expire_one(deps: Deps, inv: Invitation, now) -> bool:
    event = audit.event(deps, inv.account_id, "invitation.expired", Actor.system_actor(), "invitation",
                        inv.invitation_id, email=inv.email, role=inv.role)
    try:
        deps.store.close_invitation(inv, "expired", now, event)
        return True
    except Conflict:
        return False  # accepted, revoked or expired by someone else first: their outcome stands
