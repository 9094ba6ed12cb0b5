"""Audit action names of the contract. Events are append-only."""
from __future__ import annotations

ACTIONS = (
    "account.created", "account.updated", "account.closed",
    "invitation.created", "invitation.resent", "invitation.accepted", "invitation.declined",
    "invitation.revoked", "invitation.expired", "invitation.bounced",
    "member.added", "member.role_changed", "member.removed", "member.left",
    "application.submitted", "application.approved", "application.rejected",
    "access.denied",
)
