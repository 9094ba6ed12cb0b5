"""The inviter's side: invite by email, read, list, resend and revoke — for an account or a partner's staff."""
from __future__ import annotations

import logging
from datetime import timedelta

from ...domain import invitations as rules
from ...domain.accounts import require_open
from ...domain.emails import normalize_email
from ...domain.errors import AuthorizedUserLimit, Conflict, InvalidState, InvitationPending, NotFound, RateLimited
from ...domain.invitations import ACCOUNT, PARTNER, ROLE_LABELS, Invitation
from ...domain.model import Page
from ...domain.permissions import INVITE_PERMISSION, STAFF_INVITE_PERMISSION
from .. import mail, ratelimit
from ..access import AccountAccess, PartnerAccess, deny
from ..deps import Deps
from ..tokens import token_hash
from . import expiry

log = logging.getLogger(__name__)
Context = AccountAccess | PartnerAccess


def target_of(ctx: Context) -> tuple[str, str]:
    if isinstance(ctx, AccountAccess):
        return ACCOUNT, ctx.account.account_id
    return PARTNER, ctx.partner.partner_id


def _require_may_invite(deps: Deps, ctx: Context, role: str) -> None:
    """Nobody grants a role they could not grant by the matrix (no escalation)."""
    needed = (INVITE_PERMISSION if isinstance(ctx, AccountAccess) else STAFF_INVITE_PERMISSION).get(role)
    if needed is None or not ctx.can(needed):
        raise deny(deps, ctx, needed or "invite", f"You do not have permission to invite someone as "
                   f"{ROLE_LABELS.get(role, role)}.", role=role)


def preauthorize_invite(deps: Deps, ctx: Context, raw: dict) -> None:
    """Before the body is validated: a role named in it that the caller may not invite is 403 at once."""
    role = raw.get("role")
    roles = INVITE_PERMISSION if isinstance(ctx, AccountAccess) else STAFF_INVITE_PERMISSION
    if isinstance(role, str) and role in roles:
        _require_may_invite(deps, ctx, role)


def _may_invite_every_role(ctx: Context) -> bool:
    roles = INVITE_PERMISSION if isinstance(ctx, AccountAccess) else STAFF_INVITE_PERMISSION
    return all(ctx.can(permission) for permission in roles.values())


def _to_act_on(deps: Deps, ctx: Context, invitation_id: str) -> Invitation:
    """An invitation the caller resends or revokes. Someone who may not act on every role gets the same 403 for
    a missing id as for an invitation they may not touch: ids cannot be probed."""
    inv = deps.store.invitations.get(*target_of(ctx), invitation_id)
    if inv is None:
        if not _may_invite_every_role(ctx):
            raise deny(deps, ctx, "invite", "You do not have permission to change this invitation.",
                       invitation_id=invitation_id)
        raise NotFound()
    needed = (INVITE_PERMISSION if isinstance(ctx, AccountAccess) else STAFF_INVITE_PERMISSION).get(inv.role)
    if needed is None or not ctx.can(needed):
        raise deny(deps, ctx, needed or "invite", "You do not have permission to change this invitation.",
                   invitation_id=invitation_id)
    return inv


def _require_open(ctx: Context) -> None:
    if isinstance(ctx, AccountAccess):
        require_open(ctx.account)


def _limits(deps: Deps, ctx: Context, email: str) -> list[ratelimit.Limit]:
    """Invitation mails (a new invitation or a resend) per inviter and per target, and per recipient across every
    account and partner, per day. They are charged in the change's own transaction: only mail that goes counts."""
    kind, target_id = target_of(ctx)
    s = deps.settings
    return [ratelimit.Limit(f"invite:user:{ctx.user.user_id}", s.invites_per_inviter_per_day, 86400),
            ratelimit.Limit(f"invite:{kind}:{target_id}", s.invites_per_account_per_day, 86400),
            ratelimit.Limit(f"invite:to:{email}", s.invitation_mails_per_recipient_per_day, 86400)]


def create(deps: Deps, ctx: Context, body: dict) -> Invitation:
    """Invite someone by email; the link is mailed, only its hash is kept."""
    role, email = body["role"], normalize_email(body["email"])
    _require_may_invite(deps, ctx, role)
    _require_open(ctx)
    if isinstance(ctx, AccountAccess):
        rules.require_role_fits_account(role, ctx.account.type)
    now = deps.clock.now()
    expires_at = rules.expiry(now, body.get("expires_in_days"))
    kind, target_id = target_of(ctx)
    raw = deps.secrets.token()
    inv = Invitation(
        invitation_id=deps.secrets.new_id("inv"), target_type=kind, email=email, role=role, status="pending",
        invited_by_user_id=ctx.user.user_id, invited_by_name=ctx.user.display_name,
        invited_by_email=ctx.user.email, created_at=now, expires_at=expires_at, last_sent_at=now, send_count=1,
        token_hash=token_hash(raw), first_name=body.get("first_name"), last_name=body.get("last_name"),
        message=body.get("message"), valid_days=body.get("expires_in_days") or rules.DEFAULT_DAYS,
        **_target_fields(ctx))
    event = ctx.audit_event(deps, "invitation.created", "invitation", inv.invitation_id, email=email, role=role)
    for attempt in (1, 2):
        tx = deps.store.transaction()
        deps.store.invitations.add(tx, inv)
        if role == "authorized_user":
            deps.store.accounts.take_slot(tx, target_id)
        elif kind == ACCOUNT:
            deps.store.accounts.require_open(tx, target_id)
        deps.store.audit.add(tx, event)
        for limit in _limits(deps, ctx, email):
            ratelimit.charge(deps, tx, limit)
        try:
            tx.commit()
            break
        except AuthorizedUserLimit:
            if attempt == 2 or not expiry.reclaim_slots(deps, target_id):
                raise
        except InvitationPending as exc:  # held by an invitation that has expired but not been swept yet?
            if attempt == 2 or not expiry.expire_if_due(deps, kind, target_id, exc.holder):
                raise
    send(deps, inv, raw)
    return inv


def _target_fields(ctx: Context) -> dict:
    if isinstance(ctx, AccountAccess):
        return {"account_id": ctx.account.account_id, "account_name": ctx.account.name,
                "partner_id": ctx.account.partner_id}
    return {"partner_id": ctx.partner.partner_id, "partner_name": ctx.partner.name}


def send(deps: Deps, inv: Invitation, raw_token: str) -> None:
    """Mail the link; a failed send leaves the invitation `queued` so it can be resent."""
    link = deps.settings.link(f"/i/{raw_token}")
    try:
        mail.send(deps, "invitation", inv.email, [link], inv=inv, link=link, role_label=ROLE_LABELS[inv.role],
                  expires_on=inv.expires_at.strftime("%-d %B %Y"))
    except Exception:
        log.exception("invitation mail failed", extra={"invitation_id": inv.invitation_id})
        return
    deps.store.invitations.record_send(inv, "sent")
    inv.delivery_status = "sent"


def get(deps: Deps, ctx: Context, invitation_id: str) -> Invitation:
    inv = deps.store.invitations.get(*target_of(ctx), invitation_id)
    if inv is None:
        raise NotFound()
    return inv


def list_page(deps: Deps, ctx: Context, status: str | None, limit: int, cursor: str | None) -> Page:
    return deps.store.invitations.list(*target_of(ctx), status, deps.clock.now(), limit, cursor)


def resend(deps: Deps, ctx: Context, invitation_id: str) -> Invitation:
    """A new link with a fresh expiry; earlier links stop working. 60 s cooldown between sends."""
    inv = _to_act_on(deps, ctx, invitation_id)
    _require_open(ctx)
    now = deps.clock.now()
    rules.require_resendable(inv, now)
    wait = rules.cooldown_left(inv, now)
    if wait:
        raise RateLimited(wait, "This invitation was sent less than a minute ago.")
    revived = inv.status == "expired"  # swept: its seat and slot were given back and are taken again
    old_hash, raw = inv.token_hash, deps.secrets.token()
    inv.token_hash, inv.last_sent_at, inv.send_count = token_hash(raw), now, inv.send_count + 1
    inv.expires_at, inv.status, inv.delivery_status = now + timedelta(days=inv.valid_days), "pending", "queued"
    event = ctx.audit_event(deps, "invitation.resent", "invitation", inv.invitation_id, email=inv.email,
                            role=inv.role)
    for attempt in (1, 2):
        tx = deps.store.transaction()
        deps.store.invitations.resend(tx, inv, old_hash, revived)
        if revived and inv.role == "authorized_user":
            deps.store.accounts.take_slot(tx, inv.target_id)
        deps.store.audit.add(tx, event)
        for limit in _limits(deps, ctx, inv.email):
            ratelimit.charge(deps, tx, limit)
        try:
            tx.commit()
            break
        except AuthorizedUserLimit:
            if attempt == 2 or not expiry.reclaim_slots(deps, inv.target_id):
                raise
        except Conflict:
            raise RateLimited(60, "This invitation was just changed; try again in a minute.") from None
    send(deps, inv, raw)
    return inv


def revoke(deps: Deps, ctx: Context, invitation_id: str) -> None:
    inv = _to_act_on(deps, ctx, invitation_id)
    now = deps.clock.now()
    rules.require_revocable(inv, now)
    tx = deps.store.transaction()
    deps.store.invitations.close(tx, inv, "revoked", now)
    if inv.role == "authorized_user" and inv.target_type == ACCOUNT:
        deps.store.accounts.release_slot(tx, inv.target_id)
    deps.store.audit.add(tx, ctx.audit_event(deps, "invitation.revoked", "invitation", inv.invitation_id,
                                             email=inv.email, role=inv.role))
    try:
        tx.commit()
    except Conflict:
        raise InvalidState("Only pending invitations can be revoked.") from None
