"""A partner firm's client: a `client` account and its owners (one, or a co-owner group), with each owner's
activation status. The client row the firm lists is derived from this and rewritten with every change."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .errors import ValidationFailed

ACTIVATION_STATUSES = ("not_invited", "invited", "expired", "declined", "bounced", "active")
ACTIVATION_DAYS = 30  # an activation invitation is valid this long
MAX_OWNERS = 10


@dataclass
class ClientOwner:
    email: str
    first_name: str = ""
    last_name: str = ""
    user_id: str | None = None
    status: str = "not_invited"  # as stored; `invited` turns into `expired` by time, before the sweep writes it
    invitation_id: str | None = None
    invited_at: datetime | None = None
    expires_at: datetime | None = None

    def activation_status(self, now: datetime) -> str:
        if self.status == "invited" and self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return self.status

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Client:
    client_id: str  # the client account's id
    partner_id: str
    name: str
    plan: str
    created_at: datetime
    owners: list[ClientOwner] = field(default_factory=list)
    assigned_staff: list[dict] = field(default_factory=list)  # [{user_id, name}]
    preliminary_data: dict = field(default_factory=dict)
    version: int = 0

    @property
    def staff_ids(self) -> list[str]:
        return [s["user_id"] for s in self.assigned_staff]

    def owner(self, email: str) -> ClientOwner | None:
        return next((o for o in self.owners if o.email == email), None)

    def with_owner(self, email: str, **changes) -> "Client":
        """A copy with one owner changed (the row is rewritten whole, under its version)."""
        if self.owner(email) is None:
            raise KeyError(email)
        owners = [replace(o, **changes) if o.email == email else o for o in self.owners]
        return replace(self, owners=owners)

    def filters(self) -> set[str]:
        """The lists this client appears in besides the firm's whole list: by stored owner status, by assigned
        staff, and by both (one Query a page for any filter, no filter loop)."""
        statuses = {o.status for o in self.owners}
        found = {f"status:{s}" for s in statuses}
        for staff_id in self.staff_ids:
            found.add(f"staff:{staff_id}")
            found |= {f"staff:{staff_id}:status:{s}" for s in statuses}
        return found


def filter_key(status: str | None, staff: str | None) -> str | None:
    """The list to read for a `?status=&staff=` query (None: the whole list)."""
    if status and staff:
        return f"staff:{staff}:status:{status}"
    if status:
        return f"status:{status}"
    if staff:
        return f"staff:{staff}"
    return None


def require_distinct_owners(owners: list[dict]) -> None:
    emails = [o["email"] for o in owners]
    if len(set(emails)) != len(emails):
        raise ValidationFailed(details={"owners": "lists the same email twice"})


def activation_expiry(now: datetime) -> datetime:
    return now + timedelta(days=ACTIVATION_DAYS)
