"""The inviter's side: invite by email, read, list, resend and revoke — for an account or a partner's staff."""
from __future__ import annotations

import logging
from datetime import timedelta

from ...domain import invitations as rules
from ...domain.accounts import require_open
from ...domain.emails import normalize_email
from ...domain.errors import AuthorizedUserLimit, Conflict, DomainError, InvalidState, InvitationPending, NotFound, \
    RateLimited, RowChanged
from ...domain.invitations import ACCOUNT, PARTNER, ROLE_LABELS, Invitation
from ...domain.model import Page
from ...domain import permissions
from ...domain.permissions import INVITE_PERMISSION, STAFF_INVITE_PERMISSION
from ...domain.role_summaries import summary as role_summary
from .. import clients, mail, ratelimit, retry
from ..access import AccountAccess, PartnerAccess, deny
from ..deps import Deps
from ..tokens import token_hash
from . import expiry, targets

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
            _recipient_limit(deps, email)]


def _recipient_limit(deps: Deps, email: str) -> ratelimit.Limit:
    """Invitation mails to one address per day, whoever sends them (bulk jobs included)."""
    return ratelimit.Limit(f"invite:to:{email}", deps.settings.invitation_mails_per_recipient_per_day, 86400)


def create(deps: Deps, ctx: Context, body: dict, known: bool | None = None) -> Invitation:
    """Invite someone by email; the link is mailed, only its hash is kept. `known`: see `send_only`; when the
    caller does not say, the authorization read may have looked the address up already (`users_of_emails`)."""
    inv, raw = create_unsent(deps, ctx, body)
    if known is None:
        known = getattr(ctx, "users_of_emails", {}).get(inv.email)
    send(deps, inv, raw, known)
    return inv


def create_unsent(deps: Deps, ctx: Context, body: dict, limits: list[ratelimit.Limit] | None = None,
                  extra=None) -> tuple[Invitation, str]:
    """The invitation written (with `extra(tx, inv)` in its transaction) and its raw link token, not yet mailed:
    a bulk job mails at the pace SES allows and records the send with others."""
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
        form_id=body.get("form_id"), **_target_fields(ctx))
    event = ctx.audit_event(deps, "invitation.created", "invitation", inv.invitation_id, email=email, role=role)

    def build(tx) -> None:
        deps.store.invitations.add(tx, inv)
        if role == "authorized_user":
            deps.store.accounts.take_slot(tx, target_id)
        elif kind == ACCOUNT:
            deps.store.accounts.require_open(tx, target_id)
        deps.store.audit.add(tx, event)
        for limit in _limits(deps, ctx, email) if limits is None else [*limits, _recipient_limit(deps, email)]:
            ratelimit.charge(deps, tx, limit)
        _deliverable(deps, tx, email, body, f"{kind}:{target_id}")
        clients.track(deps, tx, inv, "invited")
        if extra is not None:
            extra(tx, inv)

    retry.commit(deps, build, lambda exc: _recover(deps, kind, target_id, exc))
    return inv, raw


def _deliverable(deps: Deps, tx, email: str, body: dict, sender: str) -> None:
    """An address that bounced for good or complained gets mail again only when a person confirms it, and only
    from the account or firm whose mail it refused."""
    if body.get("confirm_address"):
        deps.store.suppressions.lift(tx, email, sender)
    else:
        deps.store.suppressions.require_deliverable(tx, email)


def _recover(deps: Deps, kind: str, target_id: str, exc: DomainError) -> bool:
    """An invitation past its expiry but not swept yet gives up its slot or its email seat now."""
    if isinstance(exc, AuthorizedUserLimit):
        return expiry.reclaim_slots(deps, target_id)
    if isinstance(exc, InvitationPending):
        return expiry.expire_if_due(deps, kind, target_id, exc.holder)
    return False


def _target_fields(ctx: Context) -> dict:
    if isinstance(ctx, AccountAccess):
        return {"account_id": ctx.account.account_id, "account_name": ctx.account.name,
                "partner_id": ctx.account.partner_id}
    return {"partner_id": ctx.partner.partner_id, "partner_name": ctx.partner.name}


def send(deps: Deps, inv: Invitation, raw_token: str, known: bool | None = None) -> None:
    """Mail the link and record the send; a failed send leaves the invitation `queued` so it can be resent."""
    if send_only(deps, inv, raw_token, known):
        deps.store.invitations.record_send(inv, "sent")


def send_only(deps: Deps, inv: Invitation, raw_token: str, known: bool | None = None) -> bool:
    """Mail the link (the caller records the send); False if the mail could not go out.

    The mail speaks to someone who already has a login as one ("sign in to accept"). `known` says whether the
    address has a user when the caller asked already (for many at once); otherwise one read asks here. Only the
    invitee's mail differs: the inviter's request makes the same calls and gets the same answer either way."""
    link = deps.settings.link(f"/i/{raw_token}")
    try:
        if known is None:
            known = deps.store.users.id_for_email(inv.email) is not None
        mail.send(deps, "invitation", inv.email, [link], inv=inv, link=link, role_label=ROLE_LABELS[inv.role],
                  expires_on=inv.expires_at.strftime("%-d %B %Y"), known=known,
                  role_summary=role_summary(inv.target_type, inv.role),
                  app_required=inv.target_type == PARTNER and permissions.partner_role_requires(inv.role,
                                                                                               permissions.MFA_TOTP))
    except Exception:
        log.exception("invitation mail failed", extra={"invitation_id": inv.invitation_id})
        return False
    inv.delivery_status = "sent"
    return True


def get(deps: Deps, ctx: Context, invitation_id: str) -> Invitation:
    inv = deps.store.invitations.get(*target_of(ctx), invitation_id)
    if inv is None:
        raise NotFound()
    return inv


def list_page(deps: Deps, ctx: Context, status: str | None, limit: int, cursor: str | None) -> Page:
    return deps.store.invitations.list(*target_of(ctx), status, deps.clock.now(), limit, cursor)


def resend(deps: Deps, ctx: Context, invitation_id: str, confirm_address: bool = False) -> Invitation:
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

    def build(tx) -> None:
        deps.store.invitations.resend(tx, inv, old_hash, revived)
        if revived and inv.role == "authorized_user":
            deps.store.accounts.take_slot(tx, inv.target_id)
        deps.store.audit.add(tx, event)
        for limit in _limits(deps, ctx, inv.email):
            ratelimit.charge(deps, tx, limit)
        _deliverable(deps, tx, inv.email, {"confirm_address": confirm_address},
                     f"{inv.target_type}:{inv.target_id}")
        clients.track(deps, tx, inv, "invited")

    try:
        retry.commit(deps, build, lambda exc: _recover(deps, inv.target_type, inv.target_id, exc))
    except Conflict as exc:
        if isinstance(exc, RowChanged):
            raise
        raise RateLimited(60, "This invitation was just changed; try again in a minute.") from None
    send(deps, inv, raw)
    return inv


def renew_link(deps: Deps, ctx: Context, invitation_id: str) -> tuple[Invitation, str]:
    """A new link for a pending invitation whose mail never went out (no cooldown: nothing was sent)."""
    inv = get(deps, ctx, invitation_id)
    now = deps.clock.now()
    if inv.effective_status(now) != "pending" or inv.delivery_status == "sent":
        raise InvalidState("This invitation needs no new mail.")
    old_hash, raw = inv.token_hash, deps.secrets.token()
    inv.token_hash, inv.last_sent_at = token_hash(raw), now

    def build(tx) -> None:
        deps.store.invitations.resend(tx, inv, old_hash, False)

    retry.commit(deps, build)
    return inv, raw


def revoke(deps: Deps, ctx: Context, invitation_id: str) -> None:
    inv = _to_act_on(deps, ctx, invitation_id)
    now = deps.clock.now()
    rules.require_revocable(inv, now)
    event = ctx.audit_event(deps, "invitation.revoked", "invitation", inv.invitation_id, email=inv.email,
                            role=inv.role)
    try:
        targets.close(deps, inv, "revoked", now, event)
    except Conflict as exc:
        if isinstance(exc, RowChanged):
            raise
        raise InvalidState("Only pending invitations can be revoked.") from None
