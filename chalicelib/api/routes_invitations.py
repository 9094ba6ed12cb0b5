"""Invitations: the inviter's side on an account, and the invitee's side by link token."""
from __future__ import annotations

from chalice import Blueprint

from ..domain import scopes
from ..domain.errors import DomainError, ValidationFailed
from ..domain.invitations import ROLE_LABELS, STATUSES
from ..domain.permissions import INVITE_PERMISSION
from ..services.invitations import invitee, inviter
from . import budgets, present, schemas
from .budgets import Budget
from .http import AUTHENTICATED, PUBLIC, endpoint
from .pages import page
from .validation import parse_limit

bp = Blueprint(__name__)
ANY_INVITE = scopes.account(*INVITE_PERMISSION.values())
LINK_READ = Budget(reads=2, note="the link and the caller's miss counter in one BatchGetItem, then whether the "
                   "invited email has a user")


def now(call):
    return call.deps.clock.now()


def list_status(call) -> str | None:
    status = call.query.get("status")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(details={"status": "must be one of: " + ", ".join(STATUSES)})
    return status


def preauthorize_invite(call, raw: dict) -> None:
    inviter.preauthorize_invite(call.deps, call.ctx, raw)


def invitation_page(call) -> dict:
    limit, cursor = parse_limit(call.query)
    result = inviter.list_page(call.deps, call.ctx, list_status(call), limit, cursor)
    return present.page([present.invitation(i, now(call)) for i in result.items], result.next_cursor)


@endpoint(bp, "/accounts/{account_id}/invitations", "POST", scope=ANY_INVITE, budget=budgets.MAILED_WRITE,
          status=201, body=schemas.CREATE_INVITATION, tag="invitations", preauthorize=preauthorize_invite,
          summary="Invite someone by email; the matrix decides which roles the caller may invite")
def create_invitation(call):
    return present.invitation(inviter.create(call.deps, call.ctx, call.body), now(call))


@endpoint(bp, "/accounts/{account_id}/invitations", "GET", scope=scopes.account("invitations.view"),
          budget=budgets.LIST, tag="invitations", query=("status", "limit", "cursor"),
          summary="Invitations of the account, newest first, by status (expired: most recently expired first)")
def list_invitations(call):
    return invitation_page(call)


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}", "GET", scope=scopes.account("invitations.view"),
          budget=budgets.READ, tag="invitations", summary="One invitation")
def get_invitation(call):
    return present.invitation(inviter.get(call.deps, call.ctx, call.params["invitation_id"]), now(call))


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}/resend", "POST", scope=ANY_INVITE,
          budget=budgets.MAILED_WRITE_READ, tag="invitations",
          summary="Mail a new link (earlier links stop working; the expiry restarts)")
def resend_invitation(call):
    return present.invitation(inviter.resend(call.deps, call.ctx, call.params["invitation_id"]), now(call))


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}", "DELETE", scope=ANY_INVITE,
          budget=budgets.WRITE_READ, status=204, tag="invitations", summary="Revoke a pending invitation")
def revoke_invitation(call):
    inviter.revoke(call.deps, call.ctx, call.params["invitation_id"])


# invitee side -------------------------------------------------------------------------------------
def _public_view(call, inv) -> dict:
    return {"account_name": inv.account_name or None, "partner_name": inv.partner_name or None,
            "inviter_name": inv.invited_by_name, "role": inv.role, "email": inv.email,
            "status": inv.effective_status(now(call)), "expires_at": present.ts(inv.expires_at),
            "existing_user": call.deps.store.users.id_for_email(inv.email) is not None}


def _accepted(inv, joined) -> dict:
    return {"account_id": inv.account_id if inv.target_type == "account" else None, "partner_id": inv.partner_id,
            "role": joined.role, "status": getattr(joined, "status", "active")}


@endpoint(bp, "/invitations/{token}", "GET", scope=PUBLIC, budget=LINK_READ, tag="invitee",
          summary="What a link invites to, whatever its state (changes nothing)")
def read_invitation(call):
    return _public_view(call, invitee.lookup(call.deps, call.params["token"], call.source_ip))


@endpoint(bp, "/invitations/{token}/accept", "POST", scope=AUTHENTICATED, budget=Budget(reads=2, transactions=1),
          tag="invitee", summary="Accept as the signed-in user whose verified email was invited")
def accept_invitation(call):
    return _accepted(*invitee.accept(call.deps, call.ctx, call.params["token"]))


@endpoint(bp, "/me/invitations/{invitation_id}/accept", "POST", scope=AUTHENTICATED,
          budget=Budget(reads=1, queries=1, transactions=1), tag="invitee",
          summary="Accept one of /me's pending invitations without the link (the verified email must be the invited one)")
def accept_my_invitation(call):
    return _accepted(*invitee.accept_mine(call.deps, call.ctx, call.params["invitation_id"]))


@endpoint(bp, "/me/invitations/{invitation_id}/decline", "POST", scope=AUTHENTICATED,
          budget=Budget(reads=1, queries=1, transactions=1), tag="invitee",
          summary="Decline one of /me's pending invitations without the link")
def decline_my_invitation(call):
    invitee.decline_mine(call.deps, call.ctx, call.params["invitation_id"])
    return {"status": "declined"}


@endpoint(bp, "/invitations/{token}/decline", "POST", scope=PUBLIC, budget=Budget(reads=1, transactions=1),
          tag="invitee", summary="Decline (no sign-in needed)")
def decline_invitation(call):
    invitee.decline(call.deps, call.params["token"], call.source_ip)
    return {"status": "declined"}


@endpoint(bp, "/invitations/{token}/activate", "POST", scope=PUBLIC, budget=Budget(reads=1, transactions=1),
          body=schemas.ACTIVATE, status=201, tag="invitee",
          summary="A new person sets a password: user created, invitation accepted, signed in")
def activate_invitation(call):
    b = call.body
    tokens, inv = invitee.activate(call.deps, call.params["token"], b["password"], b.get("first_name"),
                                   b.get("last_name"), call.source_ip)
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in, "token_type": "Bearer",
            "account_id": inv.account_id if inv.target_type == "account" else None, "partner_id": inv.partner_id}


@endpoint(bp, "/i/{token}", "GET", scope=PUBLIC, budget=LINK_READ, tag="pages", produces="text/html",
          summary="The invitation landing page (changes nothing; its buttons act)")
def landing_page(call):
    try:
        inv = invitee.lookup(call.deps, call.params["token"], call.source_ip)
    except DomainError as exc:
        status = 429 if exc.code == "rate_limited" else 404
        return page("message", status=status, title="This invitation link does not work",
                    text="The link is not valid or was replaced by a newer one. Ask for a new invitation.")
    view = _public_view(call, inv)
    return page("invitation", inv=view, token=call.params["token"], role_label=ROLE_LABELS[inv.role],
                target_name=inv.target_name, expires_on=inv.expires_at.strftime("%-d %B %Y"))
