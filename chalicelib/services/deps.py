"""What every use case is given: the ports and the settings they need."""
from __future__ import annotations

from dataclasses import dataclass, field

from .ports import Clock, Identity, Mailer, MailQueue, Queue, Secrets, Store


@dataclass(frozen=True)
class Settings:
    """Service-level settings (read from the environment by `chalicelib.config`)."""

    public_base_url: str = "http://127.0.0.1:8000"
    reviewer_emails: frozenset[str] = field(default_factory=frozenset)
    verify_link_hours: int = 48
    reset_link_minutes: int = 60
    totp_sign_in_minutes: int = 3  # the wait for the authenticator code: the app client's AuthSessionValidity
    login_failures_per_source: int = 20  # per 15 minutes
    login_failures_per_email: int = 10  # per 15 minutes, per address and source
    login_failures_per_email_everywhere: int = 100  # per 15 minutes, per address from all sources together
    signups_per_source_per_hour: int = 20
    resets_per_source_per_hour: int = 30  # forgotten-password requests
    mails_per_email_per_hour: int = 5  # verification and reset mails to one address
    invites_per_inviter_per_day: int = 100  # invitations and resends
    invites_per_account_per_day: int = 200  # invitations and resends
    invitation_mails_per_recipient_per_day: int = 5  # across every account and partner
    accounts_per_user_per_day: int = 10  # accounts and partner firms one user creates
    denials_per_member_per_minute: int = 1  # access.denied audit events per member and permission
    lookup_misses_per_minute: int = 30  # unknown link tokens, per source
    bulk_invites_per_partner_per_day: int = 5000  # bulk jobs have their own limit; people inviting by hand have theirs
    mail_send_rate: float | None = None  # mails per second for bulk jobs; None: SES's own rate, read at run time

    def link(self, path: str) -> str:
        """An absolute link built from PUBLIC_BASE_URL, never from the request's Host."""
        return self.public_base_url.rstrip("/") + path


@dataclass
class Deps:
    store: Store
    identity: Identity
    mailer: Mailer
    clock: Clock
    secrets: Secrets
    settings: Settings
    queue: Queue | None = None
    exports: object | None = None  # where exports too large for a response go (S3)
    mail_queue: MailQueue | None = None  # the identity routes' mail, sent after the response (None: at once)
