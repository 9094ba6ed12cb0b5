"""Invitations: what they invite to (their target), the state machine, and expiry decided from `expires_at`."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import InvalidState, InvitationAccepted, InvitationDeclined, InvitationExpired, InvitationRevoked, \
    ValidationFailed

ACCOUNT, PARTNER = "account", "partner"  # what an invitation can invite to
ACCOUNT_ROLES = ("collaborator", "admin", "authorized_user", "guest", "owner")  # invitable into an account
PARTNER_ROLES = ("partner_admin", "staff")  # invitable into a partner firm's staff
STATUSES = ("pending", "accepted", "declined", "revoked", "expired")
DELIVERY_STATUSES = ("queued", "sent", "bounced", "complained")
DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 1, 90
RESEND_COOLDOWN = timedelta(seconds=60)
AUTHORIZED_USER_SLOTS = 2
# Dead links stay readable ("expired", "accepted"...) for a while, then DynamoDB's TTL removes them.
TOKEN_GRACE = timedelta(days=30)

ROLE_LABELS = {"collaborator": "collaborator", "admin": "admin", "authorized_user": "authorized user",
               "guest": "guest", "owner": "co-owner", "advisor": "advisor", "partner_admin": "partner admin",
               "staff": "staff member"}

_GONE = {"accepted": InvitationAccepted, "declined": InvitationDeclined, "revoked": InvitationRevoked,
         "expired": InvitationExpired}


@dataclass
class Invitation:
    """An invitation to an account (as a member role) or to a partner's staff (as a partner role)."""

    invitation_id: str
    target_type: str  # ACCOUNT or PARTNER
    email: str
    role: str
    status: str
    invited_by_user_id: str
    invited_by_name: str
    created_at: datetime
    expires_at: datetime
    account_id: str | None = None  # set for ACCOUNT targets
    partner_id: str | None = None  # the partner for PARTNER targets; a client account's firm otherwise
    account_name: str = ""
    partner_name: str = ""
    invited_by_email: str = ""
    last_sent_at: datetime | None = None
    send_count: int = 0
    token_hash: str = ""
    first_name: str | None = None
    last_name: str | None = None
    message: str | None = None
    delivery_status: str = "queued"
    responded_at: datetime | None = None
    form_id: str | None = None
    valid_days: int = DEFAULT_DAYS

    @property
    def target_id(self) -> str:
        return (self.account_id if self.target_type == ACCOUNT else self.partner_id) or ""

    @property
    def target_name(self) -> str:
        return self.account_name if self.target_type == ACCOUNT else self.partner_name

    def effective_status(self, now: datetime) -> str:
        """`expired` as soon as `expires_at` passes, whether or not the sweep has run."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status

    def holds_authorized_user_slot(self, now: datetime) -> bool:
        return self.role == "authorized_user" and self.effective_status(now) == "pending"


def roles_for(target_type: str) -> tuple[str, ...]:
    return ACCOUNT_ROLES if target_type == ACCOUNT else PARTNER_ROLES


def expiry(now: datetime, days: int | None) -> datetime:
    days = DEFAULT_DAYS if days is None else days
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationFailed(details={"expires_in_days": f"must be from {MIN_DAYS} to {MAX_DAYS}"})
    return now + timedelta(days=days)


def require_role_fits_account(role: str, account_type: str) -> None:
    """Co-owners exist only in client groups; personal and business accounts keep exactly one owner."""
    if role == "owner" and account_type != "client":
        raise InvalidState("Only client accounts can have more than one owner.")


def require_usable(invitation: Invitation, now: datetime) -> None:
    """410 by state for a link that was valid once and is not any more."""
    status = invitation.effective_status(now)
    if status != "pending":
        raise _GONE[status]()


def require_resendable(invitation: Invitation, now: datetime) -> None:
    if invitation.effective_status(now) not in ("pending", "expired"):
        raise InvalidState("Only pending or expired invitations can be resent.")


def require_revocable(invitation: Invitation, now: datetime) -> None:
    if invitation.effective_status(now) != "pending":
        raise InvalidState("Only pending invitations can be revoked.")


def cooldown_left(invitation: Invitation, now: datetime) -> int:
    """Seconds until the next send is allowed (0 when it is)."""
    if invitation.last_sent_at is None:
        return 0
    return max(0, math.ceil((invitation.last_sent_at + RESEND_COOLDOWN - now).total_seconds()))


def member_status_for(role: str) -> str:
    """An authorized user starts with admin rights until their application is approved."""
    return "application_required" if role == "authorized_user" else "active"
