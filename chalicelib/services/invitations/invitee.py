"""The invitee's side, by link: read it, accept (signed in), decline (no sign-in), or activate (a new person)."""
from __future__ import annotations

import hmac
import logging

from ...domain import invitations as rules
from ...domain.errors import Conflict, EmailMismatch, EmailNotVerified, NotFound, RateLimited, RowChanged
from ...domain.invitations import ROLE_LABELS, Invitation
from ...domain.model import Actor, User
from .. import audit, clients, mail, ratelimit, retry
from ..access import UserAccess
from ..deps import Deps
from ..ports import SignInTokens
from ..tokens import token_hash
from .targets import close, join

log = logging.getLogger(__name__)
_BAD_LINK = "This invitation link is not valid. Ask for a new invitation."


def lookup(deps: Deps, raw_token: str, source_ip: str | None) -> Invitation:
    """The invitation of a link. Unknown links are counted per source; past the limit every lookup is refused.

    A miss is answered 404 only if its one atomic conditional increment found room: of any number of parallel
    misses, at most the limit get 404 and the rest 429. The count read with the link only refuses early (a
    full window also refuses links that exist); it never lets a miss through."""
    limit = ratelimit.Limit(f"token-miss:{source_ip}", deps.settings.lookup_misses_per_minute, 60)
    start, retry_after = ratelimit.window(deps.clock.now(), limit.seconds)
    inv, misses = deps.store.link_and_count(token_hash(raw_token), limit.key, start)
    if misses >= limit.limit:
        log.warning("invitation link lookups refused", extra={"source_ip": source_ip, "misses": misses})
        raise RateLimited(retry_after)
    if inv is None:
        log.info("unknown invitation link", extra={"source_ip": source_ip})  # never the token itself
        ratelimit.consume(deps, limit)  # RateLimited when parallel misses filled the window first
        raise NotFound(_BAD_LINK)
    return inv


def _raise_current_state(deps: Deps, inv: Invitation) -> None:
    """After a lost race: answer by what the invitation is now (410 by state, or 404 for a replaced link)."""
    fresh = deps.store.invitations.get(inv.target_type, inv.target_id, inv.invitation_id)
    if fresh is None or not hmac.compare_digest(fresh.token_hash, inv.token_hash):
        raise NotFound(_BAD_LINK)
    rules.require_usable(fresh, deps.clock.now())


def _accept(deps: Deps, inv: Invitation, user: User):
    rules.require_usable(inv, deps.clock.now())
    joined = []

    def build(tx) -> None:
        joined[:] = [join(deps, tx, inv, user)]
        clients.track(deps, tx, inv, "active", user_id=user.user_id)

    try:
        retry.commit(deps, build)  # 409 already_member comes from the seat or membership condition
    except Conflict as exc:
        if not isinstance(exc, RowChanged):
            _raise_current_state(deps, inv)
        raise
    joined = joined[0]
    tell_inviter(deps, inv, user)
    return joined


def tell_inviter(deps: Deps, inv: Invitation, user: User) -> None:
    """The inviter learns that access was taken up (best effort: the acceptance stands either way)."""
    if not inv.invited_by_email:
        return
    try:
        mail.send(deps, "invitation_accepted", inv.invited_by_email, [], inv=inv, who=user.display_name,
                  email=user.email, role_label=ROLE_LABELS[inv.role])
    except Exception:
        log.exception("could not tell the inviter", extra={"invitation_id": inv.invitation_id})


def _require_invitee(inv: Invitation, user: User) -> None:
    if user.email != inv.email:
        raise EmailMismatch()  # the invitation stays usable by the right person
    if not user.email_verified:
        raise EmailNotVerified()


def require_open(deps: Deps, inv: Invitation) -> None:
    """410 unless the invitation can still be answered (pending, not past its expiry)."""
    rules.require_usable(inv, deps.clock.now())


def accept(deps: Deps, ctx: UserAccess, raw_token: str):
    """Signed in, with the invited (verified) email: joins with the invitation's role."""
    inv = lookup(deps, raw_token, ctx.principal.source_ip)
    rules.require_usable(inv, deps.clock.now())
    _require_invitee(inv, ctx.user)
    return inv, _accept(deps, inv, ctx.user)


def _mine(deps: Deps, ctx: UserAccess, invitation_id: str) -> Invitation:
    """A pending invitation to the signed-in user's verified email, by id (the email index holds it while
    pending; the accept transaction's conditions catch a copy that is already out of date)."""
    if not ctx.user.email_verified:
        raise EmailNotVerified()
    found = next((i for i in deps.store.invitations.pending_for_email(ctx.user.email)
                  if i.invitation_id == invitation_id and i.email == ctx.user.email), None)
    if found is None:
        raise NotFound()
    return found


def accept_mine(deps: Deps, ctx: UserAccess, invitation_id: str):
    """From inside the app: a verified email equal to the invited one proves the mailbox as the link does."""
    inv = _mine(deps, ctx, invitation_id)
    return inv, _accept(deps, inv, ctx.user)


def decline_mine(deps: Deps, ctx: UserAccess, invitation_id: str) -> None:
    _decline(deps, _mine(deps, ctx, invitation_id), ctx.actor)


def decline(deps: Deps, raw_token: str, source_ip: str | None, inv: Invitation | None = None) -> None:
    """No sign-in needed: the link itself is the proof (`inv`: the link's invitation, if already looked up)."""
    inv = inv or lookup(deps, raw_token, source_ip)
    _decline(deps, inv, Actor(None, inv.email))


def _decline(deps: Deps, inv: Invitation, actor: Actor) -> None:
    now = deps.clock.now()
    rules.require_usable(inv, now)
    event = audit.for_target(deps, inv.target_type, inv.target_id, "invitation.declined", actor, "invitation",
                             inv.invitation_id, email=inv.email, role=inv.role)
    try:
        close(deps, inv, "declined", now, event, token_hash=inv.token_hash)
    except Conflict as exc:
        if not isinstance(exc, RowChanged):
            _raise_current_state(deps, inv)
        raise


def activate(deps: Deps, raw_token: str, password: str, first_name: str | None, last_name: str | None,
             source_ip: str | None) -> tuple[SignInTokens, Invitation]:
    """A new person from the link: user created with the email verified, invitation accepted, signed in —
    the profile, the email's sentinel and the acceptance in one transaction. A refused activation creates no user."""
    inv = lookup(deps, raw_token, source_ip)
    now = deps.clock.now()
    rules.require_usable(inv, now)
    user = User(user_id=deps.secrets.new_id("usr"), email=inv.email,
                first_name=first_name or inv.first_name or "", last_name=last_name or inv.last_name or "",
                created_at=now, email_verified=True, last_login_at=now)
    deps.identity.create_user(user.user_id, user.email, password, email_verified=True)  # password policy: 400

    def build(tx) -> None:
        join(deps, tx, inv, user, new_user=True)
        deps.store.users.add(tx, user)  # 409 user_exists when the email already has a user
        deps.store.users.clear_registration(tx, user.email)  # an unconfirmed sign-up owns nothing: the link wins
        clients.track(deps, tx, inv, "active", user_id=user.user_id)

    try:
        retry.commit(deps, build)
    except Exception as exc:
        deps.identity.delete_user(user.user_id)
        if isinstance(exc, Conflict) and not isinstance(exc, RowChanged):
            _raise_current_state(deps, inv)
        raise
    tell_inviter(deps, inv, user)
    return deps.identity.sign_in(user.user_id, password), inv


def pending_for(deps: Deps, email: str) -> list[Invitation]:
    now = deps.clock.now()
    return [i for i in deps.store.invitations.pending_for_email(email) if i.effective_status(now) == "pending"]
