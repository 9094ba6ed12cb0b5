"""Invitations: the inviter's side on an account, and the invitee's side by link token."""
from __future__ import annotations

from chalice import Blueprint

from ..domain.errors import DomainError, ValidationFailed
from ..domain.invitations import STATUSES
from ..domain.permissions import INVITE_PERMISSION
from ..services import invitations, members
from . import present, schemas
from .http import AUTHENTICATED, PUBLIC, endpoint
from .pages import page
from .validation import parse_limit

bp = Blueprint(__name__)
ANY_INVITE = frozenset(INVITE_PERMISSION.values())


def _now(call):
    return call.deps.clock.now()


@endpoint(bp, "/accounts/{account_id}/invitations", "POST", permission=ANY_INVITE, status=201,
          body=schemas.CREATE_INVITATION, tag="invitations",
          summary="Invite someone by email; the matrix decides which roles the caller may invite")
def create_invitation(call):
    return present.invitation(invitations.create(call.deps, call.ctx, call.body), _now(call))


@endpoint(bp, "/accounts/{account_id}/invitations", "GET", permission="invitations.view", tag="invitations",
          query=("status", "limit", "cursor"), summary="Invitations of the account, newest first, by status")
def list_invitations(call):
    limit, cursor = parse_limit(call.query)
    status = call.query.get("status")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(details={"status": "must be one of: " + ", ".join(STATUSES)})
    result = call.deps.store.list_invitations(call.ctx.account.account_id, status, _now(call), limit, cursor)
    return {"items": [present.invitation(i, _now(call)) for i in result.items], "next_cursor": result.next_cursor}


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}", "GET", permission="invitations.view",
          tag="invitations", summary="One invitation")
def get_invitation(call):
    return present.invitation(invitations.get(call.deps, call.ctx, call.params["invitation_id"]), _now(call))


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}/resend", "POST", permission=ANY_INVITE,
          tag="invitations", summary="Mail a new link (earlier links stop working; the expiry restarts)")
def resend_invitation(call):
    return present.invitation(invitations.resend(call.deps, call.ctx, call.params["invitation_id"]), _now(call))


@endpoint(bp, "/accounts/{account_id}/invitations/{invitation_id}", "DELETE", permission=ANY_INVITE,
          status=204, tag="invitations", summary="Revoke a pending invitation")
def revoke_invitation(call):
    invitations.revoke(call.deps, call.ctx, call.params["invitation_id"])


@endpoint(bp, "/accounts/{account_id}/members/{user_id}", "DELETE", permission="account.view", status=204,
          tag="members", summary="Take a member's access back, or leave with `me`")
def remove_member(call):
    members.remove(call.deps, call.ctx, call.params["user_id"])


# invitee side -------------------------------------------------------------------------------------
def _public_view(call, inv) -> dict:
    return {"account_name": inv.account_name, "partner_name": None, "inviter_name": inv.invited_by_name,
            "role": inv.role, "email": inv.email, "status": inv.effective_status(_now(call)),
            "expires_at": present.ts(inv.expires_at),
            "existing_user": call.deps.store.user_id_for_email(inv.email) is not None}


def _accepted(inv, membership) -> dict:
    return {"account_id": inv.account_id, "partner_id": inv.partner_id, "role": membership.role,
            "status": membership.status}


@endpoint(bp, "/invitations/{token}", "GET", permission=PUBLIC, tag="invitee",
          summary="What a link invites to, whatever its state (changes nothing)")
def read_invitation(call):
    return _public_view(call, invitations.lookup(call.deps, call.params["token"], call.source_ip))


@endpoint(bp, "/invitations/{token}/accept", "POST", permission=AUTHENTICATED, tag="invitee",
          summary="Accept as the signed-in user whose verified email was invited")
def accept_invitation(call):
    return _accepted(*invitations.accept(call.deps, call.principal, call.params["token"]))


@endpoint(bp, "/me/invitations/{invitation_id}/accept", "POST", permission=AUTHENTICATED, tag="invitee",
          summary="Accept one of /me's pending invitations without the link (the verified email must be the invited one)")
def accept_my_invitation(call):
    return _accepted(*invitations.accept_mine(call.deps, call.principal, call.params["invitation_id"]))


@endpoint(bp, "/me/invitations/{invitation_id}/decline", "POST", permission=AUTHENTICATED, tag="invitee",
          summary="Decline one of /me's pending invitations without the link")
def decline_my_invitation(call):
    invitations.decline_mine(call.deps, call.principal, call.params["invitation_id"])
    return {"status": "declined"}


@endpoint(bp, "/invitations/{token}/decline", "POST", permission=PUBLIC, tag="invitee",
          summary="Decline (no sign-in needed)")
def decline_invitation(call):
    invitations.decline(call.deps, call.params["token"], call.source_ip)
    return {"status": "declined"}


@endpoint(bp, "/invitations/{token}/activate", "POST", permission=PUBLIC, body=schemas.ACTIVATE, status=201,
          tag="invitee", summary="A new person sets a password: user created, invitation accepted, signed in")
def activate_invitation(call):
    b = call.body
    tokens, inv = invitations.activate(call.deps, call.params["token"], b["password"], b.get("first_name"),
                                       b.get("last_name"), call.source_ip)
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in, "token_type": "Bearer", "account_id": inv.account_id,
            "partner_id": inv.partner_id}


@endpoint(bp, "/i/{token}", "GET", permission=PUBLIC, tag="pages", produces="text/html",
          summary="The invitation landing page (changes nothing; its buttons act)")
def landing_page(call):
    try:
        inv = invitations.lookup(call.deps, call.params["token"], call.source_ip)
    except DomainError as exc:
        status = 429 if exc.code == "rate_limited" else 404
        return page("message", status=status, title="This invitation link does not work",
                    text="The link is not valid or was replaced by a newer one. Ask for a new invitation.")
    view = _public_view(call, inv)
    return page("invitation", inv=view, token=call.params["token"], role_label=invitations.ROLE_LABELS[inv.role],
                expires_on=inv.expires_at.strftime("%-d %B %Y"))
