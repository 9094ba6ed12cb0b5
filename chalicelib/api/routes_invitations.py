"""Invitations: the inviter's side on an account, and the invitee's side by link token."""
from __future__ import annotations

from chalice import Blueprint

from .. import container
from ..domain import scopes
from ..domain.errors import DomainError, ValidationFailed
from ..domain.invitations import ROLE_LABELS, STATUSES
from ..domain.permissions import INVITE_PERMISSION
from ..domain.role_summaries import interim_role, summary as role_summary
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
          looks_up="email", summary="Invite someone by email; the matrix decides which roles the caller may invite")
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
          budget=budgets.MAILED_WRITE_READ, body=schemas.RESEND, tag="invitations",
          summary="Mail a new link (earlier links stop working; the expiry restarts)")
def resend_invitation(call):
    return present.invitation(inviter.resend(call.deps, call.ctx, call.params["invitation_id"],
                                             call.body.get("confirm_address", False)), now(call))


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
        return page("message", status=status, refused=exc, title="This invitation link does not work",
                    text="The link is not valid or was replaced by a newer one. Ask for a new invitation.")
    return _landing(call, inv)


def _landing(call, inv, error: str | None = None, status: int = 200):
    view = _public_view(call, inv)
    return page("invitation", status=status, inv=view, token=call.params["token"], role_label=ROLE_LABELS[inv.role],
                target_name=inv.target_name, expires_on=inv.expires_at.strftime("%-d %B %Y"), error=error,
                message=inv.message, inviter_email=inv.invited_by_email,
                role_summary=role_summary(inv.target_type, inv.role),
                after=_after(inv, new_login=not view["existing_user"]))


def _after(inv, new_login: bool) -> dict:
    """What the person has once they accept, and their next step (the landing page's and the forms' pages)."""
    return {"target_name": inv.target_name, "target_type": inv.target_type, "role_label": ROLE_LABELS[inv.role],
            "role_summary": role_summary(inv.target_type, inv.role), "email": inv.email, "new_login": new_login,
            "application": inv.target_type == "account" and interim_role(inv.role) is not None,
            "app_url": container.config().app_url, "app_required": app_required(inv)}


def app_required(inv) -> bool:
    """Whether the role invited to requires an authenticator app (the firm's staff: `domain.permissions`)."""
    from ..domain import permissions

    return inv.target_type != "account" and permissions.partner_role_requires(inv.role, permissions.MFA_TOTP)


def _joined(inv, title: str, text: str, new_login: bool, status: int = 200):
    return page("joined", status=status, title=title, text=text, after=_after(inv, new_login))


# the landing page's forms, for browsers without JavaScript: they POST (never GET: a password must not reach
# a URL or a log) and answer with a page ---------------------------------------------------------------------
FORM = ("application/x-www-form-urlencoded",)


def _form(call) -> dict:
    from urllib.parse import parse_qs

    raw = (call.request.raw_body or b"").decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _refused(exc: DomainError):
    """The page for a refusal, with the status its JSON twin would have (errors.STATUS)."""
    from .errors import STATUS

    status = STATUS.get(exc.code, 409)
    return page("message", status=status, refused=exc, title="This did not work", text=exc.message)


@endpoint(bp, "/i/{token}/activate", "POST", scope=PUBLIC, tag="pages", produces="text/html", content_types=FORM, status=201,
          budget=Budget(reads=1, transactions=1), summary="The landing page's form: create the login and accept")
def activate_form(call):
    from . import validation

    fields = _form(call)
    body = {k: v for k, v in fields.items() if k in ("password", "first_name", "last_name") and v != ""}
    try:
        body = validation.validate(body, schemas.ACTIVATE)
        _, inv = invitee.activate(call.deps, call.params["token"], body["password"], body.get("first_name"),
                                  body.get("last_name"), call.source_ip)
    except DomainError as exc:
        return _refused(exc)
    return _joined(inv, "Welcome to Latchkey", f"Your login is ready and you accepted the invitation to "
                   f"{inv.target_name}.", new_login=True, status=201)


def _accept_as(call, tokens):
    """Accept the link as the user these fresh tokens belong to, and say so on a page."""
    from .. import container
    from ..domain.scopes import AUTHENTICATED as SIGNED_IN
    from ..services import access

    principal = container.verifier().verify(tokens.access_token, call.source_ip)
    ctx = access.authorize(call.deps, SIGNED_IN, principal, {})
    accepted, _ = invitee.accept(call.deps, ctx, call.params["token"])
    return _joined(accepted, "You now have access", f"You accepted the invitation to {accepted.target_name}.",
                   new_login=False)


def _sign_in_again(call, error: str, status: int):
    try:
        return _landing(call, invitee.lookup(call.deps, call.params["token"], call.source_ip), error=error,
                        status=status)
    except DomainError as again:
        return _refused(again)


@endpoint(bp, "/i/{token}/signin", "POST", scope=PUBLIC, tag="pages", produces="text/html", content_types=FORM,
          budget=Budget(reads=5, transactions=3, note="the link (for its address), sign-in (its counters, the "
                        "address, the profile), then the accept: the caller's profile, the link and one transaction"),
          summary="The landing page's form: sign in with the invited address and accept (or ask for the "
                  "authenticator code first)")
def signin_form(call):
    from ..services import identity, mfa
    from . import validation

    try:
        password = validation.validate({"password": _form(call).get("password", "")}, schemas.LOGIN_PASSWORD)
        inv = invitee.lookup(call.deps, call.params["token"], call.source_ip)
        result = identity.login(call.deps, inv.email, password["password"], call.source_ip)
        if isinstance(result, mfa.PendingSignIn):
            return page("signin_totp", token=call.params["token"], session=result.session, error=None)
        return _accept_as(call, result)
    except DomainError as exc:
        if exc.code in ("invalid_credentials", "validation_error"):
            return _sign_in_again(call, "The email or password is not correct.", 401)
        return _refused(exc)


@endpoint(bp, "/i/{token}/signin/totp", "POST", scope=PUBLIC, tag="pages", produces="text/html",
          content_types=FORM, budget=Budget(reads=5, transactions=3, note="the held sign-in, its counters and the "
                                            "profile, then the accept: the caller's profile, the link and one "
                                            "transaction"),
          summary="The landing page's second step: the authenticator code, then accept")
def signin_totp_form(call):
    from ..domain.errors import InvalidMfaCode
    from ..services import identity
    from . import validation

    fields = _form(call)
    token, session = call.params["token"], fields.get("session", "")
    try:
        body = validation.validate({"session": session, "code": fields.get("code", "").strip()}, schemas.LOGIN_TOTP)
        tokens = identity.login_totp(call.deps, body["session"], body["code"], call.source_ip)
    except DomainError as exc:
        if exc.code == "validation_error" and "session" not in (exc.details or {}):
            exc = InvalidMfaCode()  # not six digits: the same answer as a wrong code
        if exc.code == "invalid_mfa_code":
            return page("signin_totp", status=400, token=token, session=session, error=exc.message)
        if exc.code in ("mfa_session_expired", "validation_error"):
            return _sign_in_again(call, "That sign-in has expired or was used already. Sign in again.", 401)
        return _refused(exc)
    try:
        return _accept_as(call, tokens)
    except DomainError as exc:
        return _refused(exc)


@endpoint(bp, "/i/{token}/signin/recovery", "POST", scope=PUBLIC, tag="pages", produces="text/html",
          content_types=FORM, budget=Budget(reads=6, transactions=3, note="the link (for its address), the recovery "
                                            "sign-in (its counters, the address, the profile; the code used up), "
                                            "then the accept: the caller's profile, the link and one transaction"),
          summary="The landing page's second step without the app: the password and a recovery code, then accept")
def signin_recovery_form(call):
    from ..domain.errors import InvalidMfaCode
    from ..services import identity
    from . import validation

    fields = _form(call)
    token, session = call.params["token"], fields.get("session", "")

    def again(message: str, status: int):
        return page("signin_totp", status=status, token=token, session=session, error=message, recovery_open=True)

    try:
        body = validation.validate({"password": fields.get("password", ""),
                                    "recovery_code": fields.get("recovery_code", "").strip()},
                                   {**schemas.LOGIN_RECOVERY, "required": ["password", "recovery_code"]})
        inv = invitee.lookup(call.deps, token, call.source_ip)
        invitee.require_open(call.deps, inv)  # a dead link uses up no code and turns nothing off
        tokens = identity.login_recovery(call.deps, inv.email, body["password"], body["recovery_code"],
                                         call.source_ip)
    except DomainError as exc:
        if exc.code == "validation_error" and "password" not in (exc.details or {}):
            exc = InvalidMfaCode("A recovery code is ten letters and digits, as in ABCDE-FGHIJ.")
        if exc.code == "invalid_mfa_code":
            return again(exc.message, 400)
        if exc.code in ("invalid_credentials", "validation_error"):
            return again("The password is not correct.", 401)
        return _refused(exc)
    try:
        return _accept_as(call, tokens)
    except DomainError as exc:
        return _refused(exc)


@endpoint(bp, "/i/{token}/decline", "POST", scope=PUBLIC, tag="pages", produces="text/html", content_types=FORM,
          budget=Budget(reads=1, transactions=1), summary="The landing page's form: asks to confirm, then declines")
def decline_form(call):
    try:
        inv = invitee.lookup(call.deps, call.params["token"], call.source_ip)
        if _form(call).get("confirm") != "yes":
            return page("decline", token=call.params["token"], target_name=inv.target_name,
                        inviter_name=inv.invited_by_name)
        invitee.decline(call.deps, call.params["token"], call.source_ip, inv)
    except DomainError as exc:
        return _refused(exc)
    return page("message", title="You declined the invitation", text="Nothing was shared with you. You can close "
                "this page.")
