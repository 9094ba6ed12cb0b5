"""What a role may do, in one line for the person invited to it, read off the permission matrix.

The phrases are data: each names a capability and the matrix actions it stands for. A role has the capability
when its column grants every one of those actions, so a change to the matrix changes the line by itself.
"""
from __future__ import annotations

from .invitations import ACCOUNT, ROLE_LABELS
from .permissions import ACCOUNT_COLUMNS, ACCOUNT_GRANTS, APPLICATION_STATUSES, PARTNER_GRANTS, account_column

# In the order a person climbs them: the first ones missing are the ones worth naming.
ACCOUNT_CAPABILITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("see the account and its data", ("account.view", "data.read")),
    ("change its data", ("data.write",)),
    ("move money", ("money.add", "money.withdraw", "money.pay")),
    ("manage payment methods", ("payment_methods.add", "payment_methods.disconnect", "payment_methods.set_primary")),
    ("see statements", ("statements.view",)),
    ("invite guests", ("guests.invite",)),
    ("manage admins", ("admins.add", "admins.remove")),
    ("change the account's details", ("account_info.update",)),
    ("close the account", ("account.close",)),
)
PARTNER_CAPABILITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("see the firm's clients", ("partner.view", "clients.view")),
    ("add and update clients", ("clients.create", "clients.update")),
    ("invite clients", ("clients.invite",)),
    ("export the client list", ("clients.export",)),
    ("manage the firm's staff and forms", ("staff.manage", "forms.manage")),
)
NAMED_LIMITS = 2  # how many missing capabilities the line names after "but not"


def capabilities(target_type: str, role: str) -> tuple[list[str], list[str]]:
    """The phrases the role has and the ones it lacks, in the order above."""
    table, grants = ((ACCOUNT_CAPABILITIES, ACCOUNT_GRANTS) if target_type == ACCOUNT
                     else (PARTNER_CAPABILITIES, PARTNER_GRANTS))
    granted = grants.get(role, frozenset())
    has = [phrase for phrase, actions in table if set(actions) <= granted]
    lacks = [phrase for phrase, actions in table if not set(actions) <= granted]
    return has, lacks


def interim_role(role: str) -> str | None:
    """The role whose rights a newcomer has until an application is approved (an authorized user has an admin's
    rights while in review), or None when the role is whole from the start."""
    interim = account_column(role, APPLICATION_STATUSES[0])
    if interim is None or interim == role:
        return None
    same = [c for c in ACCOUNT_COLUMNS if "*" not in c and ACCOUNT_GRANTS[c] == ACCOUNT_GRANTS[interim]]
    return same[0] if same else None


def _a(label: str) -> str:
    return ("an " if label[:1] in "aeiou" else "a ") + label


def _join(phrases: list[str], last: str) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + f" {last} " + phrases[-1]


def summary(target_type: str, role: str) -> str:
    """One sentence: what someone with this role can do, and the first things they cannot."""
    has, lacks = capabilities(target_type, role)
    label = ROLE_LABELS.get(role, role)
    if not has:
        return f"As {_a(label)} you can see nothing yet."
    line = f"As {_a(label)} you can {_join(has, 'and')}"
    if lacks:
        line += f", but not {_join(lacks[:NAMED_LIMITS], 'or')}"
    interim = interim_role(role) if target_type == ACCOUNT else None
    if interim:
        line += f" (until a reviewer approves your application, you have {_a(ROLE_LABELS[interim])}'s rights)"
    return line + "."
