"""The transitions every invitation shares, whatever its target: accepting writes an account membership or a
partner staff role; closing (revoke, decline, expiry) frees its seat and slot; the client row follows both."""
from __future__ import annotations

from ...domain import invitations as rules
from ...domain.invitations import ACCOUNT, Invitation
from ...domain.model import Actor, Membership, StaffMember, User
from .. import audit, clients, retry
from ..deps import Deps

# The activation status a client owner's row shows once their invitation closes this way.
ROW_STATUS = {"revoked": "not_invited", "declined": "declined", "expired": "expired"}


def join(deps: Deps, tx, inv: Invitation, user: User, new_user: bool = False):
    """Add to `tx` everything accepting `inv` writes for `user`; returns the new membership or staff role.

    `new_user`: the profile is written by the same transaction (activation), so it carries the partner role
    itself (a transaction may touch an item once)."""
    now = deps.clock.now()
    actor = Actor(user.user_id, user.email)
    deps.store.invitations.accept(tx, inv, now)
    if inv.target_type == ACCOUNT:
        joined = Membership(inv.target_id, user.user_id, inv.role, rules.member_status_for(inv.role), now,
                            email=user.email)
        deps.store.accounts.add_member(tx, joined)
        if inv.role == "owner":
            deps.store.accounts.add_owner(tx, inv.target_id, user.user_id)
        else:
            deps.store.accounts.require_open(tx, inv.target_id)
    else:
        joined = StaffMember(inv.target_id, user.user_id, inv.role, user.email, now)
        deps.store.partners.add_staff(tx, joined)
        if new_user:
            user.partner_roles[inv.target_id] = inv.role
        else:
            deps.store.users.set_partner_role(tx, user.user_id, inv.target_id, inv.role)
    for action, kind, target_id, details in (
            ("invitation.accepted", "invitation", inv.invitation_id, {"email": inv.email, "role": inv.role}),
            ("member.added", "user", user.user_id, {"role": inv.role, "invitation_id": inv.invitation_id})):
        deps.store.audit.add(tx, audit.for_target(deps, inv.target_type, inv.target_id, action, actor, kind,
                                                  target_id, **details))
    return joined


def close(deps: Deps, inv: Invitation, status: str, now, event, token_hash: str | None = None) -> None:
    """pending -> revoked, declined or expired, in one transaction: the seat and any authorized-user slot are
    freed, the audit event written, a client owner's row updated. Conflict if the invitation changed first."""
    def build(tx) -> None:
        deps.store.invitations.close(tx, inv, status, now, token_hash=token_hash)
        if inv.role == "authorized_user" and inv.target_type == ACCOUNT:
            deps.store.accounts.release_slot(tx, inv.target_id)
        deps.store.audit.add(tx, event)
        clients.track(deps, tx, inv, ROW_STATUS[status])

    retry.commit(deps, build)
