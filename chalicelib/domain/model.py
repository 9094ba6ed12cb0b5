"""The entities: plain dataclasses, no I/O. Times are timezone-aware UTC datetimes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

OPENABLE_ACCOUNT_TYPES = ("personal", "business")  # `client` accounts are created by a partner
PLANS = ("starter", "pro")


@dataclass
class User:
    """A person who can sign in. `user_id` is also the Cognito username."""

    user_id: str
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    email_verified: bool = False
    phone: str | None = None
    last_login_at: datetime | None = None
    sessions_revoked_at: datetime | None = None  # sign-out everywhere: older access tokens stop working
    partner_roles: dict[str, str] = field(default_factory=dict)  # partner_id -> partner role (staff access)
    # Moved on by a password reset, a recovery code and turning the app off: reset links and sign-ins waiting
    # for an authenticator code that carry an older generation stop working.
    reset_generation: int = 0
    mfa_enabled: bool = False  # an authenticator app (TOTP) is confirmed: the user pool asks for its code at sign-in
    totp_pending: bool = False  # a TOTP secret was handed out and waits for its first code
    kept_session: str | None = None  # the token id (`jti`) a sign-out of every other session left alive
    recovery_codes_left: int = 0  # unused recovery codes of the authenticator app (their digests stay in the store)

    def session_is_live(self, issued_at: int | None, token_id: str | None = None) -> bool:
        """False for an access token issued at or before the second the user signed out everywhere, except the
        one session such a sign-out kept (the one that added an authenticator app).

        Tokens carry whole seconds: one issued in the sign-out's own second may come from before it, so it is
        refused too (a sign-in in that second waits for the next one: `services.sessions`)."""
        if self.sessions_revoked_at is None or issued_at is None:
            return True
        if token_id is not None and token_id == self.kept_session:
            return True
        return issued_at > revoked_second(self.sessions_revoked_at)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


def revoked_second(at: datetime) -> int:
    """The whole second a sign-out falls in: tokens whose `iat` is not after it are dead."""
    return int(at.timestamp())


@dataclass
class Registration:
    """A sign-up attempt not yet confirmed: it holds a password in the user pool and owns no address."""

    attempt_id: str
    email: str
    first_name: str
    last_name: str
    created_at: datetime


@dataclass
class Account:
    """A financial account that people share. Counters live on it for conditional updates."""

    account_id: str
    name: str
    type: str
    created_at: datetime
    plan: str = "starter"
    status: str = "active"
    owner_ids: list[str] = field(default_factory=list)
    partner_id: str | None = None  # the firm that created a `client` account
    assigned_staff: list[str] = field(default_factory=list)  # partner staff who advise this client
    business_info: dict = field(default_factory=dict)
    logo_url: str | None = None
    authorized_user_slots: int = 0
    version: int = 0


@dataclass
class Membership:
    """A user's role in an account. Read on every request: nothing about roles is in tokens."""

    account_id: str
    user_id: str
    role: str
    status: str
    joined_at: datetime
    email: str = ""


@dataclass
class Partner:
    """An advisory firm. Its staff reach the firm's client accounts as advisors."""

    partner_id: str
    name: str
    created_at: datetime
    admin_count: int = 0
    version: int = 0


@dataclass
class StaffMember:
    """A user's role in a partner firm: `partner_admin` or `staff`."""

    partner_id: str
    user_id: str
    role: str
    email: str
    joined_at: datetime


@dataclass
class Actor:
    """Who did something. `system` events (sweeps, mail events) have no person behind them."""

    user_id: str | None
    email: str | None
    system: bool = False
    acting_for: str | None = None  # the partner an advisor acted for

    @classmethod
    def system_actor(cls) -> "Actor":
        return cls(user_id=None, email=None, system=True)

    def as_dict(self) -> dict:
        data: dict = {"user_id": self.user_id, "email": self.email}
        if self.system:
            data["system"] = True
        if self.acting_for:
            data["acting_for"] = {"partner_id": self.acting_for}
        return data


@dataclass
class AuditEvent:
    """One append-only record of a change of access or a refused attempt, in an account's or a partner's log."""

    event_id: str
    at: datetime
    action: str
    actor: Actor
    target_type: str
    target_id: str
    details: dict = field(default_factory=dict)
    account_id: str | None = None
    partner_id: str | None = None  # the log it belongs to when it is not an account's
    user_log: str | None = None  # ... or a user's own log (their sign-in settings), by user id


@dataclass
class OneTimeToken:
    """A mailed secret (email verification, password reset): only its hash is stored."""

    token_hash: str
    purpose: str
    user_id: str
    expires_at: datetime
    email: str | None = None  # a verification token: the address of the attempt it confirms
    generation: int = 0  # a reset token: the user's reset generation when it was mailed

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass
class Page:
    """One page of a list and the cursor to the next one (None at the end)."""

    items: list
    next_cursor: str | None = None
