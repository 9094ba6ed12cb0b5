"""Pages reached from mailed links. GET only shows; the form's POST acts (mail scanners prefetch links)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from ..domain.errors import DomainError
from ..services import identity
from ..services.invitations import invitee
from . import budgets
from .budgets import Budget
from .http import PUBLIC, endpoint
from .pages import page
from .validation import validate
from . import schemas

bp = Blueprint(__name__)
_CSS = Path(__file__).resolve().parent.parent / "templates" / "pages" / "latchkey.css"
FORM = ("application/x-www-form-urlencoded",)


def _form(call) -> dict:
    raw = (call.request.raw_body or b"").decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@endpoint(bp, "/static/latchkey.css", "GET", scope=PUBLIC, budget=budgets.NONE, tag="pages", produces="text/css",
          summary="The site's style sheet (the pages carry it inline; this copy is for anything else that links it)")
def stylesheet(call):
    return Response(body=_CSS.read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600"})


@endpoint(bp, "/favicon.ico", "GET", scope=PUBLIC, budget=budgets.NONE, tag="pages", status=204, produces="image/x-icon",
          summary="No icon (answers quietly instead of an error in the browser console)")
def favicon(call):
    return None


@endpoint(bp, "/static/invite.js", "GET", scope=PUBLIC, budget=budgets.NONE, tag="pages", produces="application/javascript",
          summary="The invitation page's script (the page carries it inline; this copy is for anything else)")
def invite_script(call):
    return Response(body=(_CSS.parent / "invite.js").read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": "application/javascript; charset=utf-8",
                             "Cache-Control": "public, max-age=3600"})


@endpoint(bp, "/verify/{token}", "GET", scope=PUBLIC, budget=budgets.NONE, tag="pages", produces="text/html",
          summary="Email verification page (changes nothing; its button confirms)")
def verify_page(call):
    return page("verify", token=call.params["token"])


@endpoint(bp, "/verify/{token}", "POST", scope=PUBLIC, budget=budgets.VERIFY, tag="pages", produces="text/html",
          content_types=FORM, summary="Confirm the email from the verification page")
def verify_submit(call):
    try:
        validate({"token": call.params["token"]}, schemas.VERIFY_EMAIL)
        identity.verify_email(call.deps, call.params["token"])
    except DomainError as exc:
        return page("message", status=400 if exc.code == "validation_error" else 404,
                    title="This link does not work any more", text=exc.message)
    return page("message", title="Your email is confirmed", text="You can now sign in to Latchkey.")


@endpoint(bp, "/reset/{token}", "GET", scope=PUBLIC, budget=budgets.NONE, tag="pages", produces="text/html",
          summary="Password reset page (changes nothing; its form sets the password)")
def reset_page(call):
    return page("reset", token=call.params["token"], error=None)


@endpoint(bp, "/reset/{token}", "POST", scope=PUBLIC, budget=budgets.RESET, tag="pages", produces="text/html",
          content_types=FORM, summary="Set a new password from the reset page")
def reset_submit(call):
    token = call.params["token"]
    password = _form(call).get("password", "")
    try:
        validate({"token": token, "password": password}, schemas.RESET)
    except DomainError:
        return page("reset", status=400, token=token, error="Choose a password of at least 8 characters.")
    try:
        identity.reset_password(call.deps, token, password)
    except DomainError as exc:
        return page("message", status=404, title="This link does not work any more", text=exc.message)
    return page("message", title="Your password is changed", text="Sign in with your new password.")


# "Forgot password?" from the invitation page's sign-in form: the reset link goes to the invited address (the
# person types nothing, and no address reaches a URL); GET shows, POST sends.
FORGOT_READ = Budget(reads=1, note="the link and the caller's miss counter in one BatchGetItem")


def _open_invitation(call):
    """The link's invitation while it can still be accepted, or the page that says why not."""
    try:
        inv = invitee.lookup(call.deps, call.params["token"], call.source_ip)
    except DomainError as exc:
        return None, page("message", status=429 if exc.code == "rate_limited" else 404, refused=exc,
                          title="This invitation link does not work",
                          text="The link is not valid or was replaced by a newer one. Ask for a new invitation.")
    if inv.effective_status(call.deps.clock.now()) != "pending":
        return None, page("message", status=410, title="This invitation is no longer open",
                          text="Sign in to Latchkey as usual, or ask for a new invitation.")
    return inv, None


@endpoint(bp, "/i/{token}/forgot", "GET", scope=PUBLIC, budget=FORGOT_READ, tag="pages", produces="text/html",
          summary="Forgot password, from an invitation: offers to mail a reset link to the invited address")
def forgot_page(call):
    inv, refused = _open_invitation(call)
    if refused:
        return refused
    return page("forgot", token=call.params["token"], email=inv.email, sent=False)


@endpoint(bp, "/i/{token}/forgot", "POST", scope=PUBLIC, tag="pages", produces="text/html", content_types=FORM,
          budget=Budget(reads=1, writes=1, note="the link, then the source's reset counter; whether the address has "
                        "a user is the mail worker's business"),
          summary="Mail a reset link to the invited address (the same answer whether or not it has a login)")
def forgot_submit(call):
    inv, refused = _open_invitation(call)
    if refused:
        return refused
    try:
        identity.forgot_password(call.deps, inv.email, call.source_ip)
    except DomainError as exc:
        return page("message", status=429 if exc.code == "rate_limited" else 400, refused=exc,
                    title="This did not work", text=exc.message)
    return page("forgot", token=call.params["token"], email=inv.email, sent=True)
