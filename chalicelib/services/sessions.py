"""Signed-in users, as the table knows them: a token issued before "sign out everywhere" is dead."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from ..domain.errors import Unauthenticated
from ..domain.model import User, revoked_second
from .deps import Deps
from .principal import Principal


def require_live(principal: Principal, user: User | None) -> User:
    """The caller's profile, or 401 for a deleted user or a token from before a sign-out."""
    if user is None or not user.session_is_live(principal.issued_at, principal.token_id):
        raise Unauthenticated()
    return user


def load_user(deps: Deps, principal: Principal) -> User:
    return require_live(principal, deps.store.users.get(principal.user_id))


def wait_past_revocation(user: User, sleep=time.sleep) -> bool:
    """A sign-in in the same whole second as the user's last sign-out would get tokens that are refused (an
    `iat` equal to the sign-out's second may come from before it): wait for the next second. True if it waited."""
    if user.sessions_revoked_at is None:
        return False
    now = time.time()
    second = revoked_second(user.sessions_revoked_at)
    if int(now) > second:
        return False
    sleep(second + 1 - now + 0.05)  # a small margin for the user pool's clock
    return True


def revoke(deps: Deps, user_id: str) -> None:
    """End every session: refresh tokens in the user pool, access tokens here.

    Real time, not the business clock: tokens carry real issue times even when the local clock moves.
    """
    deps.identity.sign_out_everywhere(user_id)
    deps.store.users.revoke_sessions(user_id, datetime.now(timezone.utc))
