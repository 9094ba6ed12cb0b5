"""The client list as CSV: RFC 4180, UTF-8, one row per owner, and safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io

from ..domain.clients import Client
from .access import PartnerAccess
from .clients import list_page
from .deps import Deps

COLUMNS = ("client_id", "client_name", "owner_email", "owner_name", "activation_status", "invited_at",
           "last_login_at", "plan", "assigned_staff")
MAX_RESPONSE_BYTES = 5 * 1024 * 1024  # Lambda answers at most 6 MB; larger files go to S3 behind a link
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def rows(client: Client, users: dict, now) -> list[list[str]]:
    staff = "; ".join(s.get("name") or s["user_id"] for s in client.assigned_staff)
    out = []
    for owner in client.owners:
        user = users.get(owner.user_id) if owner.user_id else None
        out.append([client.client_id, client.name, owner.email, owner.name, owner.activation_status(now),
                    _ts(owner.invited_at), _ts(user.last_login_at if user else None), client.plan, staff])
    return out


def client_list_csv(deps: Deps, ctx: PartnerAccess) -> bytes:
    """Every client the caller may see, every page of the list (a Query a page), as one CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    now, cursor = deps.clock.now(), None
    while True:
        page, users = list_page(deps, ctx, None, None, 200, cursor)
        for client in page.items:
            writer.writerows([[neutralise(cell) for cell in row] for row in rows(client, users, now)])
        cursor = page.next_cursor
        if not cursor:
            return buffer.getvalue().encode("utf-8")


def publish(deps: Deps, ctx: PartnerAccess, body: bytes) -> str:
    """A file too large for a response: stored in S3, handed out as a presigned link valid five minutes."""
    key = f"exports/{ctx.partner.partner_id}/{deps.secrets.new_id('exp')}/clients.csv"
    return deps.exports.publish(key, body, "text/csv; charset=utf-8", "clients.csv", seconds=300)
