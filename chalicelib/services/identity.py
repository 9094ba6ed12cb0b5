"""Sign-up, email verification, sign-in, sign-out and password reset."""
from __future__ import annotations

import logging
from datetime import timedelta

from ..domain.emails import normalize_email
from ..domain.errors import EmailNotVerified, InvalidCredentials, NotFound, UserExists
from ..domain.model import OneTimeToken, User
from . import mail, ratelimit, sessions
from .deps import Deps
from .ports import SignInTokens
from .principal import Principal
from .tokens import token_hash

log = logging.getLogger(__name__)

VERIFY = "verify_email"
RESET = "reset_password"
_LOGIN_WINDOW = 15 * 60


def signup(deps: Deps, email: str, password: str, first_name: str, last_name: str) -> None:
    """Create an unverified user and mail a verification link; the same outcome for a taken email."""
    email = normalize_email(email)
    user = User(user_id=deps.secrets.new_id("usr"), email=email, first_name=first_name, last_name=last_name,
                created_at=deps.clock.now())
    tx = deps.store.transaction()
    deps.store.users.add(tx, user)  # the email sentinel in the same transaction keeps emails unique
    try:
        tx.commit()
    except UserExists:
        existing = deps.store.users.id_for_email(email)
        if existing is not None:
            _mail_to_existing(deps, existing)
        return
    try:
        deps.identity.create_user(user.user_id, email, password, email_verified=False)
    except Exception:
        deps.store.users.remove(user)  # no half-created user: the email stays free
        raise
    _mail_verification(deps, user)


def _within_mail_budget(deps: Deps, email: str) -> bool:
    # Caps the mails one address can be sent (a quiet no: the reply must not reveal anything).
    return ratelimit.allowed(deps, ratelimit.Limit(f"mail:{email}", deps.settings.mails_per_email_per_hour, 3600))


def _new_token(deps: Deps, purpose: str, user_id: str, lifetime: timedelta) -> str:
    raw = deps.secrets.token()
    deps.store.users.put_token(OneTimeToken(token_hash(raw), purpose, user_id, deps.clock.now() + lifetime))
    return raw


def _mail_verification(deps: Deps, user: User) -> None:
    if not _within_mail_budget(deps, user.email):
        return
    hours = deps.settings.verify_link_hours
    link = deps.settings.link("/verify/" + _new_token(deps, VERIFY, user.user_id, timedelta(hours=hours)))
    mail.send(deps, "verify_email", user.email, [link], first_name=user.first_name, link=link, hours=hours)


def _mail_reset(deps: Deps, user: User, template: str = "reset_password") -> None:
    if not _within_mail_budget(deps, user.email):
        return
    minutes = deps.settings.reset_link_minutes
    link = deps.settings.link("/reset/" + _new_token(deps, RESET, user.user_id, timedelta(minutes=minutes)))
    mail.send(deps, template, user.email, [link], first_name=user.first_name, link=link,
              reset_link=link, minutes=minutes)


def _mail_to_existing(deps: Deps, user_id: str) -> None:
    user = deps.store.users.get(user_id)
    if user is None:
        return
    if user.email_verified:
        _mail_reset(deps, user, template="account_exists")
    else:
        _mail_verification(deps, user)


def _take(deps: Deps, raw_token: str, purpose: str) -> OneTimeToken:
    token = deps.store.users.take_token(token_hash(raw_token), purpose)
    if token is None or token.is_expired(deps.clock.now()):
        raise NotFound("This link is not valid any more. Ask for a new one.")
    return token


def verify_email(deps: Deps, raw_token: str) -> None:
    """Mark the user's email verified, in the user pool and in the profile. The link works once."""
    token = _take(deps, raw_token, VERIFY)
    deps.identity.set_email_verified(token.user_id)
    deps.store.users.mark_verified(token.user_id)


def login(deps: Deps, email: str, password: str, source_ip: str | None) -> SignInTokens:
    """Check the password, refuse unverified emails, record the login time."""
    email = normalize_email(email)
    settings = deps.settings
    limits = [ratelimit.Limit(f"login:ip:{source_ip}", settings.login_failures_per_source, _LOGIN_WINDOW),
              ratelimit.Limit(f"login:email:{email}", settings.login_failures_per_email, _LOGIN_WINDOW)]
    ratelimit.require_room(deps, limits)
    user_id = deps.store.users.id_for_email(email)
    try:
        if user_id is None:
            raise InvalidCredentials()
        tokens = deps.identity.sign_in(user_id, password)
    except InvalidCredentials:
        for limit in limits:
            ratelimit.allowed(deps, limit)
        raise
    user = deps.store.users.get(user_id)
    if user is None or not user.email_verified:
        raise EmailNotVerified()
    deps.store.users.record_login(user_id, deps.clock.now())
    return tokens


def refresh(deps: Deps, refresh_token: str) -> SignInTokens:
    return deps.identity.refresh(refresh_token)


def logout(deps: Deps, principal: Principal) -> None:
    """Sign out everywhere: refresh tokens stop working, and so do access tokens already issued."""
    sessions.revoke(deps, principal.user_id)


def forgot_password(deps: Deps, email: str) -> None:
    """Mail a reset link if the email has a user; say nothing either way."""
    user_id = deps.store.users.id_for_email(normalize_email(email))
    user = deps.store.users.get(user_id) if user_id else None
    if user is not None:
        _mail_reset(deps, user)


def reset_password(deps: Deps, raw_token: str, password: str) -> None:
    """Set the new password and end every session; the link also proves the mailbox."""
    token = _take(deps, raw_token, RESET)
    try:
        deps.identity.set_password(token.user_id, password)
    except Exception:
        deps.store.users.put_token(token)  # a refused password must not use up the link
        raise
    sessions.revoke(deps, token.user_id)
    user = deps.store.users.get(token.user_id)
    if user is not None and not user.email_verified:
        deps.identity.set_email_verified(token.user_id)
        deps.store.users.mark_verified(token.user_id)
