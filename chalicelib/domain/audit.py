"""Audit action names: the contract's, plus the partner log's own. Events are append-only."""
from __future__ import annotations

ACTIONS = frozenset({
    "account.created", "account.updated", "account.closed",
    "invitation.created", "invitation.resent", "invitation.accepted", "invitation.declined",
    "invitation.revoked", "invitation.expired", "invitation.bounced",
    "member.added", "member.role_changed", "member.removed", "member.left",
    "application.submitted", "application.approved", "application.rejected",
    "access.denied",
    # a user's sign-in settings (their own log, and the log of each firm they are staff of)
    "mfa.enabled", "mfa.disabled", "mfa.recovery_codes_renewed",
    # a partner's own log
    "partner.created", "client.created", "client.updated", "bulk_invitation.queued",
    # a client account's own
    "form.submitted",
})


def require_known(action: str) -> str:
    """Every event names an action of the list above: a typo fails loudly, not silently in the log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return action
