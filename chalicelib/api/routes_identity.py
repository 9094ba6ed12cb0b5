"""Sign-up, verification, sign-in, tokens, password reset and /me."""
from __future__ import annotations

from chalice import Blueprint

from ..domain import permissions
from ..services import audit, identity, me, mfa
from . import budgets, present, schemas
from .budgets import Budget
from .http import AUTHENTICATED, PUBLIC, bearer_token, endpoint, json_response
from .validation import parse_limit

bp = Blueprint(__name__)


def _tokens(t, with_refresh: bool = True) -> dict:
    body = {"access_token": t.access_token, "expires_in": t.expires_in, "token_type": "Bearer"}
    if with_refresh:
        body["refresh_token"] = t.refresh_token
    return body


@endpoint(bp, "/auth/signup", "POST", scope=PUBLIC, budget=budgets.SIGNUP, body=schemas.SIGNUP, status=202, tag="identity",
          summary="Create a user; a verification link is mailed (same reply for a taken email)")
def signup(call):
    b = call.body
    identity.signup(call.deps, b["email"], b["password"], b["first_name"], b["last_name"], call.source_ip)
    return {"status": "verification_sent"}


@endpoint(bp, "/auth/verify-email", "POST", scope=PUBLIC, budget=budgets.VERIFY, body=schemas.VERIFY_EMAIL, tag="identity",
          summary="Confirm an email address with the mailed token")
def verify_email(call):
    identity.verify_email(call.deps, call.body["token"])
    return {"status": "verified"}


def signed_in(result):
    """Tokens (200), or for a user with an authenticator app the step that waits for its code (202)."""
    if isinstance(result, mfa.PendingSignIn):
        return json_response({"challenge": "totp", "session": result.session, "expires_in": result.expires_in}, 202)
    return _tokens(result)


@endpoint(bp, "/auth/login", "POST", scope=PUBLIC, budget=Budget(reads=2, transactions=2, note="the attempt counted first (one transaction for the three limits), the address's owner and newest sign-up in one BatchGetItem, the profile; a right password gives its count back with the login time (or, when an authenticator code is due, with the held sign-in)"), body=schemas.LOGIN, tag="identity",
          summary="Sign in with email and password (202 and a session when the authenticator code is due next)")
def login(call):
    return signed_in(identity.login(call.deps, call.body["email"], call.body["password"], call.source_ip))


@endpoint(bp, "/auth/login/totp", "POST", scope=PUBLIC, budget=Budget(reads=2, transactions=2, note="the held sign-in, the attempt counted (the login limits), the profile; a right code gives its count back with the login time and uses the session up"), body=schemas.LOGIN_TOTP, tag="identity",
          summary="Finish a sign-in with the authenticator app's 6-digit code; answers as /auth/login")
def login_totp(call):
    return _tokens(identity.login_totp(call.deps, call.body["session"], call.body["code"], call.source_ip))


@endpoint(bp, "/auth/login/recovery", "POST", scope=PUBLIC, budget=Budget(reads=2, transactions=2, note="the attempt counted (the login limits), the address's owner and newest sign-up, the profile; the code used up with the app's whole set, the count given back, the sessions ended and the login recorded in one transaction"), body=schemas.LOGIN_RECOVERY, tag="identity",
          summary="Sign in with the password and a recovery code in place of a lost authenticator app; the app is "
                  "turned off and every other session ends; answers as /auth/login")
def login_recovery(call):
    b = call.body
    return _tokens(identity.login_recovery(call.deps, b["email"], b["password"], b["recovery_code"], call.source_ip))


@endpoint(bp, "/auth/refresh", "POST", scope=PUBLIC, budget=budgets.NONE, body=schemas.REFRESH, tag="identity",
          summary="A new access token from a refresh token")
def refresh(call):
    return _tokens(identity.refresh(call.deps, call.body["refresh_token"]), with_refresh=False)


@endpoint(bp, "/auth/logout", "POST", scope=AUTHENTICATED, budget=Budget(reads=1, writes=1), status=204, tag="identity",
          summary="Sign out everywhere: refresh tokens stop working")
def logout(call):
    identity.logout(call.deps, call.principal)


@endpoint(bp, "/auth/password/forgot", "POST", scope=PUBLIC, budget=Budget(writes=1, note="the source's counter; the mail job is on the queue, whether the address has a user is the worker's business"), body=schemas.FORGOT, status=202,
          tag="identity", summary="Mail a password reset link if the email has a user (always 202)")
def forgot(call):
    identity.forgot_password(call.deps, call.body["email"], call.source_ip)
    return {"status": "reset_sent"}


@endpoint(bp, "/auth/password/reset", "POST", scope=PUBLIC, budget=budgets.RESET, body=schemas.RESET, tag="identity",
          summary="Set a new password with the mailed token; every session ends")
def reset(call):
    identity.reset_password(call.deps, call.body["token"], call.body["password"])
    return {"status": "password_reset"}


@endpoint(bp, "/me", "GET", scope=AUTHENTICATED, budget=Budget(reads=2, queries=1, note="one Query of the email index, then the names of the accounts and partners"), tag="identity",
          summary="The caller, their own and shared accounts, partners and pending invitations")
def get_me(call):
    seen = me.load(call.deps, call.ctx)
    accounts = [{"account_id": a.account_id, "name": a.name, "type": a.type, "role": m.role,
                 "status": m.status, "account_status": a.status, "own": m.role == "owner",
                 "permissions": sorted(permissions.account_permissions(m.role, m.status))}
                for m, a in seen.accounts]
    accounts.sort(key=lambda x: (not x["own"], x["name"].lower()))
    partners = sorted(({"partner_id": p.partner_id, "name": p.name, "role": s.role} for s, p in seen.partners),
                      key=lambda x: x["name"].lower())
    pending = [{"invitation_id": i.invitation_id, "account_id": i.account_id, "account_name": i.account_name or None,
                "partner_id": i.partner_id, "partner_name": i.partner_name or None, "target_type": i.target_type,
                "inviter_name": i.invited_by_name, "role": i.role, "expires_at": present.ts(i.expires_at)}
               for i in seen.pending]
    return {"user": present.user(seen.user), "accounts": accounts, "partners": partners, "pending_invitations": pending}


@endpoint(bp, "/me/audit", "GET", scope=AUTHENTICATED, budget=budgets.LIST, tag="identity", query=("limit", "cursor"),
          summary="The caller's own log, newest first: authenticator app turned on or off")
def my_audit(call):
    limit, cursor = parse_limit(call.query)
    result = audit.list_events(call.deps, "user", call.principal.user_id, limit, cursor)
    return present.page([present.audit_event(e) for e in result.items], result.next_cursor)


# authenticator app (TOTP): open to every signed-in user, partner staff who still lack one included
@endpoint(bp, "/me/mfa/totp", "POST", scope=AUTHENTICATED, body=schemas.START_TOTP,
          budget=Budget(reads=1, writes=1, transactions=2, note="the profile, the secret handed out; replacing an "
                        "app that is on also counts the password (the login limits) and gives the count back"),
          tag="identity", summary="Start adding an authenticator app: its secret and otpauth:// URI (shown once); "
                                  "replacing an app that is on asks for the password")
def start_totp(call):
    secret = mfa.start(call.deps, call.ctx, bearer_token(call.request), call.body.get("password"), call.source_ip)
    return {"secret": secret.secret, "otpauth_uri": secret.uri}


@endpoint(bp, "/me/mfa/totp/verify", "POST", scope=AUTHENTICATED, body=schemas.VERIFY_TOTP,
          budget=Budget(reads=1, transactions=1, writes=1, note="the profile, the code taken (once), the change"),
          tag="identity", summary="Confirm the app with its current code: every sign-in then asks for a code")
def verify_totp(call):
    user, codes = mfa.confirm(call.deps, call.ctx, bearer_token(call.request), call.body["code"])
    return {**mfa.status(user), "recovery_codes": codes}


@endpoint(bp, "/me/mfa/recovery-codes", "POST", scope=AUTHENTICATED, body=schemas.LOGIN_PASSWORD,
          budget=Budget(reads=1, transactions=2, note="the profile; the attempt counted (the login limits); the new "
                        "set with the count given back and the audit event"),
          tag="identity", summary="A new set of recovery codes for the authenticator app, with the password asked "
                                  "again; the old codes stop working")
def renew_recovery_codes(call):
    codes = mfa.renew_recovery_codes(call.deps, call.ctx, call.body["password"], call.source_ip)
    return {"recovery_codes": codes, "recovery_codes_left": len(codes)}


@endpoint(bp, "/me/mfa/totp", "DELETE", scope=AUTHENTICATED, budget=budgets.WRITE, status=204, tag="identity",
          summary="Turn the authenticator app off (403 mfa_required while a partner role requires it)")
def turn_off_totp(call):
    mfa.turn_off(call.deps, call.ctx)
