"""Rules about accounts: which permission each editable field group needs, and closing."""
from __future__ import annotations

from .errors import InvalidState
from .model import Account
from .permissions import can

# PATCH /accounts/{id} field groups and the permission each one needs.
FIELD_GROUP_PERMISSION = {
    "name": "business_info.update",
    "owner_info": "owner_info.update",
    "business_info": "business_info.update",
    "account_info": "account_info.update",
    "logo_url": "settings.logo.update",
}

# Someone with none of these may not PATCH at all: refused before the body is read.
ANY_UPDATE_PERMISSIONS = frozenset(FIELD_GROUP_PERMISSION.values())


def denied_field_groups(role: str, status: str, groups: list[str]) -> list[str]:
    """The groups in a PATCH that this member may not change (empty means all allowed)."""
    return [g for g in groups if not can(role, status, FIELD_GROUP_PERMISSION[g])]


def require_open(account: Account) -> None:
    """A closed account accepts no more changes."""
    if account.status == "closed":
        raise InvalidState("This account is closed.")
