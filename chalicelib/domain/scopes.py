"""Who may call a route: its scope. Each route declares exactly one; `services.access` checks it.

| scope          | who                                                                 |
| public         | anyone (link pages, sign-up)                                        |
| authenticated  | any signed-in user                                                  |
| account(a...)  | a member whose role holds one of the actions, or partner staff
|                | reaching the firm's client account as `advisor`                     |
| partner(a...)  | the partner's `partner_admin` or `staff` whose role holds one of them |
| reviewer       | a signed-in user whose verified email is a platform reviewer's      |
| local_only     | anyone, in the local stage only                                     |
"""
from __future__ import annotations

from dataclasses import dataclass

from .permissions import ACCOUNT_ACTIONS, PARTNER_ACTIONS

KINDS = ("public", "authenticated", "account", "partner", "reviewer", "local_only")


@dataclass(frozen=True)
class Scope:
    kind: str
    actions: frozenset[str] = frozenset()
    # Ending one's own membership (`{user_id}` is `me` or the caller) asks nothing the role requires of those who
    # use it (an authenticator app): leaving takes access away, and nobody should have to add an app to do it.
    leaving: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown scope {self.kind!r}")
        known = {"account": ACCOUNT_ACTIONS, "partner": PARTNER_ACTIONS}.get(self.kind, ())
        if (self.kind in ("account", "partner")) != bool(self.actions) or set(self.actions) - set(known):
            raise ValueError(f"scope {self.kind} with actions {sorted(self.actions)}")

    @property
    def needs_token(self) -> bool:
        return self.kind not in ("public", "local_only")

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(sorted(self.actions))})" if self.actions else self.kind


PUBLIC = Scope("public")
AUTHENTICATED = Scope("authenticated")
REVIEWER = Scope("reviewer")
LOCAL_ONLY = Scope("local_only")


def account(*actions: str) -> Scope:
    """Members (or advisors) holding any one of `actions` in the account named by `{account_id}`."""
    return Scope("account", frozenset(actions))


def partner(*actions: str, leaving: bool = False) -> Scope:
    """Staff holding any one of `actions` in the partner named by `{partner_id}` (`leaving`: see Scope)."""
    return Scope("partner", frozenset(actions), leaving)
