"""`GET /me`: the caller, their own and shared accounts, partners and pending invitations.

One Query of the email index returns memberships, staff roles and pending invitations together; one
BatchGetItem adds the accounts' and partners' names.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.invitations import Invitation
from ..domain.model import Account, Membership, Partner, StaffMember, User
from .access import UserAccess
from .deps import Deps


@dataclass
class Overview:
    user: User
    accounts: list[tuple[Membership, Account]]
    partners: list[tuple[StaffMember, Partner]]
    pending: list[Invitation]


def load(deps: Deps, ctx: UserAccess) -> Overview:
    user = ctx.user
    memberships, staff, invitations = deps.store.things_of_email(user.email)
    accounts, partners = deps.store.accounts_and_partners([m.account_id for m in memberships],
                                                          [s.partner_id for s in staff])
    now = deps.clock.now()
    return Overview(
        user=user,
        accounts=[(m, accounts[m.account_id]) for m in memberships if m.account_id in accounts],
        partners=[(s, partners[s.partner_id]) for s in staff if s.partner_id in partners],
        pending=[i for i in invitations if i.effective_status(now) == "pending"],
    )
