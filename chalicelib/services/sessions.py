"""Signed-in users, as the table knows them: a token issued before "sign out everywhere" is dead."""
from __future__ import annotations

from datetime import datetime, timezone

from ..domain.errors import Unauthenticated
from ..domain.model import User
from .deps import Deps
from .principal import Principal


def require_live(principal: Principal, user: User | None) -> User:
    """The caller's profile, or 401 for a deleted user or a token from before a sign-out."""
    if user is None or not user.session_is_live(principal.issued_at):
        raise Unauthenticated()
    return user


def load_user(deps: Deps, principal: Principal) -> User:
    return require_live(principal, deps.store.users.get(principal.user_id))


def revoke(deps: Deps, user_id: str) -> None:
    """End every session: refresh tokens in the user pool, access tokens here.

    Real time, not the business clock: tokens carry real issue times even when the local clock moves.
    """
    deps.identity.sign_out_everywhere(user_id)
    deps.store.users.revoke_sessions(user_id, datetime.now(timezone.utc))
