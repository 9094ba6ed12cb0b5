"""The role matrix of PERMISSIONS.md, kept as data. Anything not listed is denied."""
from __future__ import annotations

# Columns of the account matrix. `authorized_user*` is an authorized user whose
# application is required or in review: admin rights only until a reviewer approves.
ACCOUNT_COLUMNS = ("owner", "authorized_user", "authorized_user*", "admin", "collaborator", "advisor", "guest")

# One row per action, one cell per column above: Y allowed, - denied.
_ACCOUNT_MATRIX = """
account.view                 Y Y Y Y Y Y Y
data.read                    Y Y Y Y Y Y Y
data.write                   Y Y Y Y Y Y -
money.add                    Y Y - - Y - -
money.withdraw               Y Y - - Y - -
money.pay                    Y Y - - Y - -
payment_methods.add          Y Y - - Y - -
payment_methods.disconnect   Y Y - - Y - -
payment_methods.set_primary  Y Y - - Y - -
settings.details.view        Y Y - - Y Y -
settings.logo.update         Y Y - - Y - -
statements.view              Y Y - - Y Y -
owner_info.update            Y - - - - - -
business_info.update         Y - - - Y Y -
account_info.update          Y - - - - - -
account.close                Y - - - - - -
members.view                 Y Y Y Y Y Y -
invitations.view             Y Y - - Y Y -
admins.add                   Y Y - - - - -
admins.remove                Y Y - - - - -
authorized_users.add         Y - - - - - -
authorized_users.remove      Y - - - - - -
collaborators.invite         Y - - - - - -
collaborators.revoke         Y - - - - - -
owners.invite                Y - - - - Y -
guests.invite                Y Y - - Y Y -
guests.remove                Y Y - - Y Y -
audit.view                   Y Y - - Y Y -
"""

PARTNER_COLUMNS = ("partner_admin", "staff")

_PARTNER_MATRIX = """
partner.view      Y Y
staff.manage      Y -
forms.manage      Y -
clients.create    Y Y
clients.view      Y Y
clients.update    Y Y
clients.invite    Y Y
clients.export    Y Y
audit.view        Y -
"""


# What a partner role requires of the person who holds it, one cell per column above. `mfa.totp`: an
# authenticator app is enrolled; without it every route of the firm and every client account reached as its
# advisor is refused (403 `mfa_required`), and the app cannot be turned off while the role is held.
_PARTNER_REQUIREMENTS = """
mfa.totp          Y Y
"""


def _parse(table: str, columns: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Turn the matrix text into {column: frozenset(actions)}; malformed rows fail at import."""
    grants: dict[str, set[str]] = {c: set() for c in columns}
    for line in table.strip().splitlines():
        action, *cells = line.split()
        if len(cells) != len(columns) or set(cells) - {"Y", "-"}:
            raise ValueError(f"malformed permission row: {line!r}")
        for column, cell in zip(columns, cells):
            if cell == "Y":
                grants[column].add(action)
    return {c: frozenset(a) for c, a in grants.items()}


ACCOUNT_GRANTS = _parse(_ACCOUNT_MATRIX, ACCOUNT_COLUMNS)
PARTNER_GRANTS = _parse(_PARTNER_MATRIX, PARTNER_COLUMNS)
ACCOUNT_ACTIONS: tuple[str, ...] = tuple(line.split()[0] for line in _ACCOUNT_MATRIX.strip().splitlines())
PARTNER_ACTIONS: tuple[str, ...] = tuple(line.split()[0] for line in _PARTNER_MATRIX.strip().splitlines())
PARTNER_REQUIREMENTS = _parse(_PARTNER_REQUIREMENTS, PARTNER_COLUMNS)
MFA_TOTP = "mfa.totp"

MEMBER_ROLES = ("owner", "authorized_user", "admin", "collaborator", "guest", "advisor")
PARTNER_ROLES = PARTNER_COLUMNS


# An authorized user in application has admin rights only; every other status grants nothing.
APPLICATION_STATUSES = ("application_required", "in_review")


def account_column(role: str | None, status: str | None) -> str | None:
    """The matrix column for a member, or None (no rights) for an unknown role or status."""
    if role not in MEMBER_ROLES:
        return None
    if status == "active":
        return role
    if role == "authorized_user" and status in APPLICATION_STATUSES:
        return "authorized_user*"
    return None


def account_permissions(role: str | None, status: str | None) -> frozenset[str]:
    """Every account action a member with this role and status may take (none for unknowns)."""
    column = account_column(role, status)
    return ACCOUNT_GRANTS[column] if column else frozenset()


def can(role: str | None, status: str | None, action: str) -> bool:
    """Deny by default: True only for a listed (role, action) pair."""
    return action in account_permissions(role, status)


def partner_can(role: str | None, action: str) -> bool:
    """Partner matrix check; unknown roles and actions are denied."""
    return role is not None and action in PARTNER_GRANTS.get(role, frozenset())


def partner_role_requires(role: str | None, requirement: str) -> bool:
    """True if holding this partner role comes with the requirement (e.g. `mfa.totp`)."""
    return role is not None and requirement in PARTNER_REQUIREMENTS.get(role, frozenset())


def mfa_required(partner_roles: dict[str, str]) -> bool:
    """Whether someone with these partner roles (partner_id -> role) must keep an authenticator app."""
    return any(partner_role_requires(role, MFA_TOTP) for role in partner_roles.values())


# Which permission inviting, resending or revoking an invitation for a role needs: account roles are
# checked against the account matrix, partner roles against the partner matrix.
INVITE_PERMISSION = {
    "collaborator": "collaborators.invite",
    "admin": "admins.add",
    "authorized_user": "authorized_users.add",
    "guest": "guests.invite",
    "owner": "owners.invite",
}
STAFF_INVITE_PERMISSION = {"partner_admin": "staff.manage", "staff": "staff.manage"}

# Which permission removing a member of a role needs (leaving yourself needs none). The matrix has no row for
# removing an owner, so nobody may: a co-owner leaves by themselves, and one owner cannot push out another.
REMOVE_PERMISSION: dict[str, str | None] = {
    "collaborator": "collaborators.revoke",
    "admin": "admins.remove",
    "authorized_user": "authorized_users.remove",
    "guest": "guests.remove",
    "owner": None,
    "advisor": "collaborators.revoke",
}
