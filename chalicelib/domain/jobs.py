"""Bulk invitation jobs: queued, running, done; counted per owner."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

CLIENTS_PER_MESSAGE = 25  # one queue message carries this many clients' owners
MAX_CLIENTS = 5000
RESULT_STATUSES = ("sent", "already_pending", "already_active", "failed")


@dataclass
class Job:
    job_id: str
    partner_id: str
    created_at: datetime
    total: int
    status: str = "queued"
    succeeded: int = 0
    failed: int = 0
    remaining: int = 0
    form_id: str | None = None
    created_by: dict = field(default_factory=dict)  # {user_id, name, email}


@dataclass
class JobResult:
    client_id: str
    email: str
    status: str
    invitation_id: str | None = None
    error: str | None = None
    mailed: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status != "failed"
