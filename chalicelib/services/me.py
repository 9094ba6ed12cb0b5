"""`GET /me`: the caller, their own and shared accounts, partners and pending invitations."""
from __future__ import annotations

from ..domain.model import Account, Membership, User
from . import sessions
from .deps import Deps
from .principal import Principal


def load(deps: Deps, principal: Principal) -> tuple[User, list[tuple[Membership, Account]]]:
    user = sessions.load_user(deps, principal)
    memberships = deps.store.memberships_of_user(user.user_id)
    accounts = deps.store.get_accounts([m.account_id for m in memberships])
    pairs = [(m, accounts[m.account_id]) for m in memberships if m.account_id in accounts]
    return user, pairs
