"""Sign-up, email verification, sign-in, sign-out and password reset.

The public routes (sign-up, sign-in, forgotten password) do the same work whether or not the email has a
user: the branch that differs runs after the response, in `deliveries` (the mail queue's worker). An
unverified sign-up owns nothing: it is an attempt with its own password in the user pool, and its mailed
link confirms that attempt only, while it is the newest one for the address.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ..domain import recovery_codes
from ..domain.emails import normalize_email
from ..domain.errors import (EmailNotVerified, InvalidCredentials, InvalidMfaCode, InvalidState, NotFound,
                             UserExists)
from ..domain.model import Actor, OneTimeToken, Registration, User
from . import mail, mfa, ratelimit, sessions
from .deps import Deps
from .ports import SignInChallenge, SignInTokens
from .principal import Principal
from .tokens import token_hash

log = logging.getLogger(__name__)

VERIFY = "verify_email"
RESET = "reset_password"
_LOGIN_WINDOW = 15 * 60
_BAD_LINK = "This link is not valid any more. Ask for a new one."


def signup(deps: Deps, email: str, password: str, first_name: str, last_name: str,
           source_ip: str | None = None) -> None:
    """A new sign-up attempt for the address, its password in the user pool; the mail goes out after the reply.

    The same calls whether the address is free, has an unconfirmed attempt (which this one replaces) or a user
    (whose owner is told instead, by the worker)."""
    email, now = normalize_email(email), deps.clock.now()
    ratelimit.consume(deps, ratelimit.Limit(f"signup:ip:{source_ip}", deps.settings.signups_per_source_per_hour,
                                            3600))
    attempt = Registration(deps.secrets.new_id("usr"), email, first_name, last_name, now)
    deps.identity.create_user(attempt.attempt_id, email, password, email_verified=False)  # password policy: 400
    try:
        replaced = deps.store.users.put_registration(
            attempt, now + timedelta(hours=deps.settings.verify_link_hours, days=1))
    except Exception:
        deps.identity.delete_user(attempt.attempt_id)
        raise
    queue(deps, {"job": "signup", "email": email, "attempt_id": attempt.attempt_id, "replaced": replaced})


def queue(deps: Deps, job: dict) -> None:
    """Hand a mail job to the worker (after the response); without a queue (service tests) it runs now."""
    if deps.mail_queue is None:
        from . import deliveries

        deliveries.deliver(deps, job)
    else:
        deps.mail_queue.put(job)


def within_mail_budget(deps: Deps, email: str) -> bool:
    # Caps the mails one address can be sent (a quiet no: the reply must not reveal anything).
    return ratelimit.allowed(deps, ratelimit.Limit(f"mail:{email}", deps.settings.mails_per_email_per_hour, 3600))


def new_token(deps: Deps, purpose: str, user_id: str, lifetime: timedelta, **extra) -> str:
    raw = deps.secrets.token()
    deps.store.users.put_token(OneTimeToken(token_hash(raw), purpose, user_id, deps.clock.now() + lifetime, **extra))
    return raw


def mail_verification(deps: Deps, reg: Registration) -> None:
    if not within_mail_budget(deps, reg.email):
        return
    hours = deps.settings.verify_link_hours
    link = deps.settings.link("/verify/" + new_token(deps, VERIFY, reg.attempt_id, timedelta(hours=hours),
                                                     email=reg.email))
    mail.send(deps, "verify_email", reg.email, [link], first_name=reg.first_name, link=link, hours=hours)


def mail_reset(deps: Deps, user: User, template: str = "reset_password") -> None:
    if not within_mail_budget(deps, user.email):
        return
    minutes = deps.settings.reset_link_minutes
    link = deps.settings.link("/reset/" + new_token(deps, RESET, user.user_id, timedelta(minutes=minutes),
                                                    generation=user.reset_generation))
    mail.send(deps, template, user.email, [link], first_name=user.first_name, link=link,
              reset_link=link, minutes=minutes)


def _take(deps: Deps, raw_token: str, purpose: str) -> OneTimeToken:
    token = deps.store.users.take_token(token_hash(raw_token), purpose)
    if token is None or token.is_expired(deps.clock.now()):
        raise NotFound(_BAD_LINK)
    return token


def verify_email(deps: Deps, raw_token: str) -> None:
    """Confirm the sign-up attempt the link was mailed for, with that attempt's password. The link works once,
    and only while its attempt is the address's newest and nobody owns the address yet."""
    token = _take(deps, raw_token, VERIFY)
    reg = deps.store.users.registration(token.email or "")
    if reg is None or reg.attempt_id != token.user_id:
        raise NotFound("This link was replaced by a newer sign-up. Use the newest link we sent.")
    user = User(user_id=reg.attempt_id, email=reg.email, first_name=reg.first_name, last_name=reg.last_name,
                created_at=deps.clock.now(), email_verified=True)
    tx = deps.store.transaction()
    deps.store.users.confirm(tx, reg, user)
    try:
        tx.commit()
    except UserExists:
        # The address was taken meanwhile (an invitation link proved it): this attempt is void.
        deps.identity.delete_user(reg.attempt_id)
        raise NotFound("This address already has a Latchkey login: sign in, or reset the password.") from None
    deps.identity.set_email_verified(user.user_id)


def login_limits(deps: Deps, email: str, source_ip: str | None) -> list[ratelimit.Limit]:
    """Failed sign-ins counted per address *and* source (a stranger's guesses lock out only the stranger), per
    source (one source guessing many addresses), and per address from everywhere with a high ceiling (many
    sources guessing one address)."""
    s = deps.settings
    return [ratelimit.Limit(f"login:email-ip:{email}:{source_ip}", s.login_failures_per_email, _LOGIN_WINDOW),
            ratelimit.Limit(f"login:ip:{source_ip}", s.login_failures_per_source, _LOGIN_WINDOW),
            ratelimit.Limit(f"login:email:{email}", s.login_failures_per_email_everywhere, _LOGIN_WINDOW)]


def _password(deps: Deps, email: str, password: str, source_ip: str | None):
    """The first step of every sign-in: the attempt counted (one atomic increment for the three login limits),
    then the password checked by the user pool, for a known and an unknown address alike. Returns the receipt
    (to give the count back), the verified user and the pool's answer (tokens, or a challenge for the app's
    code); a wrong password is 401, an unconfirmed sign-up 403."""
    email = normalize_email(email)
    receipt = ratelimit.consume_all(deps, login_limits(deps, email, source_ip))
    owner_id, attempt_id = deps.store.users.sign_in_names(email)
    name = owner_id or attempt_id or deps.secrets.new_id("usr")  # nobody has this name: the pool says no
    result = deps.identity.sign_in(name, password)
    if owner_id is None:
        if attempt_id is None:
            raise InvalidCredentials()
        raise EmailNotVerified()  # the right password of a sign-up whose link was not followed yet
    user = deps.store.users.get(owner_id)
    if user is None or not user.email_verified:
        raise EmailNotVerified()
    return receipt, user, result


def login(deps: Deps, email: str, password: str, source_ip: str | None) -> SignInTokens | mfa.PendingSignIn:
    """Check the password, refuse unverified emails, record the login time; for a user with an authenticator
    app, hold the sign-in until `login_totp` has its code.

    Every attempt is counted before the password is checked, in one atomic increment that decides (so parallel
    guesses cannot pass the limit); a right password gives its count back. A known and an unknown address cost
    the same calls: the user pool is asked in both cases."""
    receipt, user, result = _password(deps, email, password, source_ip)
    owner_id = user.user_id
    if not isinstance(result, SignInChallenge) and sessions.wait_past_revocation(user):
        result = deps.identity.sign_in(owner_id, password)  # the first tokens fell in the sign-out's second
    if isinstance(result, SignInChallenge):
        return mfa.hold(deps, user, result, receipt)
    tx = deps.store.transaction()
    ratelimit.refund(deps, receipt, tx)
    app_on = mfa.seen_at_sign_in(deps, tx, user, asked=False)  # turned off in the user pool itself?
    deps.store.users.record_login(owner_id, deps.clock.now(), tx, app_on)
    tx.commit()
    return result


def login_totp(deps: Deps, session: str, code: str, source_ip: str | None) -> SignInTokens:
    """The second step of a sign-in held by `login`: the authenticator code for that user. Each code counts
    against the same login limits as a password (a right one gives its count back); the session works once."""
    pending = mfa.held(deps, session)
    receipt = ratelimit.consume_all(deps, login_limits(deps, pending.email or "", source_ip))
    user = mfa.check_unchanged(pending, deps.store.users.get(pending.user_id))
    sessions.wait_past_revocation(user)
    tokens = deps.identity.answer_totp(user.user_id, session, code)
    tx = deps.store.transaction()
    ratelimit.refund(deps, receipt, tx)
    app_on = mfa.seen_at_sign_in(deps, tx, user, asked=True)  # added in the user pool itself?
    deps.store.users.record_login(user.user_id, deps.clock.now(), tx, app_on)
    mfa.complete(deps, tx, pending, code)
    tx.commit()
    return tokens


def login_recovery(deps: Deps, email: str, password: str, code: str, source_ip: str | None) -> SignInTokens:
    """Sign in with the password and a recovery code in place of a lost authenticator app: the code is used up
    with its whole set, the app is turned off, every other session ends, the address is mailed, and the
    answer is the tokens `/auth/login` gives. A partner role that requires the app then refuses its holder until
    they add a new one.

    Counted against the login limits like a password (a right password and code give the count back); a known
    and an unknown address cost the same calls up to the password."""
    receipt, user, asked = _password(deps, email, password, source_ip)
    if not isinstance(asked, SignInChallenge):  # the user pool asks no code of this login
        raise InvalidState("No authenticator app is on for this login: sign in with the password alone.")
    typed = recovery_codes.normalize(code)
    if typed is None:
        raise InvalidMfaCode("A recovery code is ten letters and digits, as in ABCDE-FGHIJ.")
    tx = deps.store.transaction()
    ratelimit.refund(deps, receipt, tx)
    now = datetime.now(timezone.utc)  # real time: tokens carry real issue times
    deps.store.users.recover(tx, user.user_id, recovery_codes.digest(user.user_id, typed), now, deps.clock.now())
    mfa.audit_change(deps, tx, user, False, Actor(user.user_id, user.email), via="recovery_code")
    tx.commit()  # a used, replaced or foreign code: 400 invalid_mfa_code, and the attempt stays counted
    deps.identity.set_totp(user.user_id, False)
    deps.identity.sign_out_everywhere(user.user_id)
    sessions.wait_past_revocation(replace(user, sessions_revoked_at=now))
    tokens = deps.identity.sign_in(user.user_id, password)
    if isinstance(tokens, SignInChallenge):  # the user pool kept asking: nothing more to do here than retry
        raise InvalidState("The authenticator app could not be turned off just now. Try again in a moment.")
    mfa.tell(deps, user, enabled=False, replaced=False, recovered=True)
    return tokens


def refresh(deps: Deps, refresh_token: str) -> SignInTokens:
    return deps.identity.refresh(refresh_token)


def logout(deps: Deps, principal: Principal) -> None:
    """Sign out everywhere: refresh tokens stop working, and so do access tokens already issued."""
    sessions.revoke(deps, principal.user_id)


def forgot_password(deps: Deps, email: str, source_ip: str | None = None) -> None:
    """Queue a reset mail for the address; the worker mails it if the address has a user. Same work either way."""
    email = normalize_email(email)
    ratelimit.consume(deps, ratelimit.Limit(f"forgot:ip:{source_ip}", deps.settings.resets_per_source_per_hour,
                                            3600))
    queue(deps, {"job": "forgot", "email": email})


def reset_password(deps: Deps, raw_token: str, password: str) -> None:
    """Set the new password and end every session; the link also proves the mailbox. A successful reset moves
    the user's reset generation on, so every other reset link of theirs stops working."""
    token = _take(deps, raw_token, RESET)
    user = deps.store.users.get(token.user_id)
    if user is None or user.reset_generation != token.generation:
        raise NotFound("This link was replaced: a newer one was used already. Ask for a new one.")
    if not deps.store.users.advance_reset_generation(user.user_id, token.generation):
        raise NotFound("This link was replaced: a newer one was used already. Ask for a new one.")
    try:
        deps.identity.set_password(token.user_id, password)
    except Exception:
        deps.store.users.rewind_reset_generation(user.user_id, token.generation)
        deps.store.users.put_token(token)  # a refused password must not use up the link
        raise
    sessions.revoke(deps, token.user_id)
    if not user.email_verified:
        deps.identity.set_email_verified(token.user_id)
        deps.store.users.mark_verified(token.user_id)
