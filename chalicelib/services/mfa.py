"""Authenticator apps (TOTP): adding one, turning it off, and the sign-in step that waits for its code.

The user pool checks every code. The profile keeps whether the app is on (`mfa_enabled`), so authorization
reads it from the profile it loads anyway. A partner role may require the app (`domain.permissions`): its
holder is refused on the firm's routes until the app is on, and cannot turn it off.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from ..domain import permissions, recovery_codes
from ..domain.errors import InvalidState, MfaRequired, MfaSessionExpired, ValidationFailed
from ..domain.model import Actor, OneTimeToken, User
from . import audit, ratelimit
from .access import UserAccess
from .deps import Deps
from .ports import SignInChallenge, UnitOfWork
from .tokens import token_hash

ISSUER = "Latchkey"
SIGN_IN = "sign_in_totp"  # the purpose of a held sign-in: the password was right, the code is still to come
USED_CODE = "totp_used"  # the purpose of a code's marker: each code is taken once
USED_CODE_MINUTES = 3  # longer than the user pool accepts a code (its step and the one either side)
PARTNER_LOGS_AT_MOST = 50  # partner logs one change is copied to: a transaction holds at most 100 writes
_NOT_STARTED = "Start adding the authenticator app first: POST /me/mfa/totp gives the secret for it."
_KEEP = ("Your role at a partner firm requires an authenticator app, so it stays on while you hold that role. "
         "To move to a new device, add it again with POST /me/mfa/totp and confirm its code.")


@dataclass
class TotpSecret:
    """What the user types or scans into the app; shown once, never stored by us."""

    secret: str
    uri: str


@dataclass
class PendingSignIn:
    """The answer to a right password when the app's code is still needed."""

    session: str
    expires_in: int


def otpauth_uri(email: str, secret: str) -> str:
    """The `otpauth://` URI authenticator apps scan: issuer Latchkey, labelled with the user's email."""
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": 6, "period": 30})
    return f"otpauth://totp/{quote(ISSUER)}:{quote(email, safe='')}?{query}"


def status(user: User) -> dict:
    return {"totp_enabled": user.mfa_enabled, "required": permissions.mfa_required(user.partner_roles),
            "recovery_codes_left": user.recovery_codes_left}


def new_recovery_codes(deps: Deps, user_id: str) -> tuple[list[str], set[str]]:
    """A set of recovery codes to show once, and the digests to keep of them."""
    codes = [recovery_codes.from_random(deps.secrets.token()) for _ in range(recovery_codes.COUNT)]
    return codes, {recovery_codes.digest(user_id, c) for c in codes}


def start(deps: Deps, ctx: UserAccess, access_token: str, password: str | None = None,
          source_ip: str | None = None) -> TotpSecret:
    """A new secret from the user pool; the app is on only once `confirm` has its first code. Replacing an app
    that is on asks for the password again: an access token alone never takes the app (and its recovery codes)
    away from its owner."""
    if ctx.user.mfa_enabled:
        if not password:
            raise ValidationFailed("Replacing the authenticator app asks for your password again.",
                                   details={"password": "is required while an authenticator app is on"})
        receipt, _ = reconfirm_password(deps, ctx, password, source_ip)
        tx = deps.store.transaction()
        ratelimit.refund(deps, receipt, tx)
        tx.commit()
    secret = deps.identity.start_totp(access_token)
    deps.store.users.start_totp(ctx.user.user_id)
    return TotpSecret(secret, otpauth_uri(ctx.user.email, secret))


def confirm(deps: Deps, ctx: UserAccess, access_token: str, code: str) -> tuple[User, list[str]]:
    """The app's first code proves the secret: from now on the user pool asks for a code at every sign-in. Returns
    the user and a new set of recovery codes (shown once; any earlier set is void)."""
    if not ctx.user.totp_pending:
        raise InvalidState(_NOT_STARTED)
    spend_code(deps, ctx.user.user_id, code, "enrol")  # before the user pool turns anything on
    deps.identity.confirm_totp(access_token, code)
    deps.identity.set_totp(ctx.user.user_id, True)
    # Every other session began without this app (or with the one it replaces): they end, this one goes on.
    # Refresh tokens in the user pool, access tokens here (real time: tokens carry real issue times).
    deps.identity.sign_out_everywhere(ctx.user.user_id)
    codes, digests = new_recovery_codes(deps, ctx.user.user_id)
    tx = deps.store.transaction()
    record(deps, tx, ctx.user, True, ctx.actor, replaced=ctx.user.mfa_enabled,
           others_revoked_at=datetime.now(timezone.utc), kept_session=ctx.principal.token_id,
           recovery_digests=digests)
    tx.commit()
    tell(deps, ctx.user, enabled=True, replaced=ctx.user.mfa_enabled)
    return replace(ctx.user, mfa_enabled=True, totp_pending=False, recovery_codes_left=len(codes)), codes


def renew_recovery_codes(deps: Deps, ctx: UserAccess, password: str, source_ip: str | None) -> list[str]:
    """A new set of recovery codes in place of the old one (each old code stops working). The password is asked
    again, as for the codes' own use: an access token alone does not get codes that stand in for the app. A wrong
    password counts against the login limits of the address and source."""
    if not ctx.user.mfa_enabled:
        raise InvalidState("No authenticator app is on for this login: add one first.")
    receipt, asked = reconfirm_password(deps, ctx, password, source_ip)
    if not isinstance(asked, SignInChallenge):  # the user pool asks no code: the app was turned off there
        raise InvalidState("No authenticator app is on for this login: add one first.")
    codes, digests = new_recovery_codes(deps, ctx.user.user_id)
    tx = deps.store.transaction()
    ratelimit.refund(deps, receipt, tx)
    deps.store.users.renew_recovery_codes(tx, ctx.user.user_id, digests)
    audit_everywhere(deps, tx, ctx.user, "mfa.recovery_codes_renewed", ctx.actor)
    tx.commit()
    tell(deps, ctx.user, enabled=True, replaced=False, renewed=True)
    return codes


def turn_off(deps: Deps, ctx: UserAccess) -> None:
    """Stop asking for a code at sign-in; refused while a partner role requires the app."""
    if permissions.mfa_required(ctx.user.partner_roles):
        raise MfaRequired(_KEEP)
    deps.identity.set_totp(ctx.user.user_id, False)
    if ctx.user.mfa_enabled:
        tx = deps.store.transaction()
        record(deps, tx, ctx.user, False, ctx.actor)
        tx.commit()
        tell(deps, ctx.user, enabled=False, replaced=False)


def reconfirm_password(deps: Deps, ctx: UserAccess, password: str, source_ip: str | None):
    """The signed-in user's password asked again, counted against the login limits like a sign-in (the caller
    gives the count back in its own transaction). A wrong one is 401 `invalid_credentials`. Returns the receipt
    and what the user pool answered (a challenge when the app is on there)."""
    from . import identity

    receipt = ratelimit.consume_all(deps, identity.login_limits(deps, ctx.user.email, source_ip))
    return receipt, deps.identity.sign_in(ctx.user.user_id, password)


def tell(deps: Deps, user: User, enabled: bool, replaced: bool, recovered: bool = False,
          renewed: bool = False) -> None:
    """A mail to the login's own address: someone holding a stolen token cannot change the app unseen."""
    import logging

    from . import mail

    try:
        mail.send(deps, "mfa_changed", user.email, [], email=user.email, enabled=enabled, replaced=replaced,
                  recovered=recovered, renewed=renewed)
    except Exception:  # the change is made and audited; a mail that fails does not undo it
        logging.getLogger(__name__).exception("the authenticator-app mail failed")


def record(deps: Deps, tx: UnitOfWork, user: User, enabled: bool, actor: Actor, others_revoked_at=None,
           kept_session: str | None = None, recovery_digests: set[str] | None = None, **details) -> None:
    """The profile's flag (and the end of the other sessions, if given) and its audit events into `tx`."""
    deps.store.users.set_mfa(tx, user.user_id, enabled, others_revoked_at, kept_session, recovery_digests)
    audit_change(deps, tx, user, enabled, actor, **details)


def audit_change(deps: Deps, tx: UnitOfWork, user: User, enabled: bool, actor: Actor, **details) -> None:
    audit_everywhere(deps, tx, user, "mfa.enabled" if enabled else "mfa.disabled", actor, **details)


def audit_everywhere(deps: Deps, tx: UnitOfWork, user: User, action: str, actor: Actor, **details) -> None:
    """A change of the user's sign-in in their own log and in the log of each firm they are staff of."""
    deps.store.audit.add(tx, audit.user_event(deps, user.user_id, action, actor, **details))
    for partner_id in sorted(user.partner_roles)[:PARTNER_LOGS_AT_MOST]:
        deps.store.audit.add(tx, audit.partner_event(deps, partner_id, action, actor, "user", user.user_id,
                                                     **details))


def seen_at_sign_in(deps: Deps, tx: UnitOfWork, user: User, asked: bool) -> bool | None:
    """Whether the user pool asked this sign-in for a code, against the profile: a difference means the app was
    turned on or off in the user pool directly (the user's token allows that). The change is audited into `tx`;
    returns the flag the sign-in writes with the login time (None: unchanged)."""
    if user.mfa_enabled == asked:
        return None
    audit_change(deps, tx, user, asked, Actor(user.user_id, user.email), seen_at="sign_in")
    return asked


def hold(deps: Deps, user: User, challenge: SignInChallenge, receipt) -> PendingSignIn:
    """The password was right: its attempt is given back, and the sign-in waits for the code, bound to this
    user (only the session's hash is stored). It lasts as long as the user pool's own session."""
    minutes = deps.settings.totp_sign_in_minutes
    tx = deps.store.transaction()
    ratelimit.refund(deps, receipt, tx)
    deps.store.users.put_token(OneTimeToken(token_hash(challenge.session), SIGN_IN, user.user_id,
                                            deps.clock.now() + timedelta(minutes=minutes), email=user.email,
                                            generation=user.reset_generation), tx)
    tx.commit()
    return PendingSignIn(challenge.session, minutes * 60)


def held(deps: Deps, session: str) -> OneTimeToken:
    """The sign-in this session holds, or 401 `mfa_session_expired` (unknown, completed or too old)."""
    pending = deps.store.users.peek_token(token_hash(session), SIGN_IN)
    if pending is None or pending.is_expired(deps.clock.now()):
        raise MfaSessionExpired()
    return pending


def check_unchanged(pending: OneTimeToken, user: User | None) -> User:
    """The user the sign-in was held for, unless a password reset came since (it ends every sign-in)."""
    if user is None or user.reset_generation != pending.generation:
        raise MfaSessionExpired()
    return user


def complete(deps: Deps, tx: UnitOfWork, pending: OneTimeToken, code: str) -> None:
    """Into the sign-in's transaction: the held session is used up (of two answers only one wins), and so is the
    code (a code that signed in once, or confirmed the app, signs in nobody again)."""
    deps.store.users.use_token(tx, pending.token_hash, SIGN_IN)
    spend_code(deps, pending.user_id, code, "sign_in", tx)


def spend_code(deps: Deps, user_id: str, code: str, use: str, tx: UnitOfWork | None = None) -> None:
    """Each authenticator code is taken once for each `use` (RFC 6238 section 5.2): the user pool does not
    remember the codes it accepted, so a marker per user, use and code does, until the code could not be
    accepted anyway. A code that signed in once signs in nobody again, in this session or another; the code
    that confirmed the app confirms nothing more. A code taken already is 400 `invalid_mfa_code`."""
    now = deps.clock.now()
    marker = OneTimeToken(token_hash(f"{USED_CODE}:{use}:{user_id}:{code}"), USED_CODE, user_id,
                          now + timedelta(minutes=USED_CODE_MINUTES))
    deps.store.users.put_token_once(marker, now, tx)
