"""The firm's client rows: one per client under the partner, and its copies in the filtered lists.

Each owner change rewrites the row under its version and puts the copies the row now belongs in (and
deletes the ones it left), in the same transaction as the change — so every list is one Query a page.
"""
from __future__ import annotations

from ...domain.clients import Client, ClientOwner
from ...domain.model import Page
from . import keys, table
from .cursors import Cursors
from .models import ClientCopyItem, ClientItem, Item
from .unit_of_work import UnitOfWork


def _owner_json(o: ClientOwner) -> dict:
    return {"email": o.email, "first_name": o.first_name, "last_name": o.last_name, "user_id": o.user_id,
            "status": o.status, "invitation_id": o.invitation_id,
            "invited_at": keys.stamp(o.invited_at) if o.invited_at else None,
            "expires_at": keys.stamp(o.expires_at) if o.expires_at else None}


def _owner(data: dict) -> ClientOwner:
    from datetime import datetime, timezone

    def when(value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) if value else None

    return ClientOwner(email=data["email"], first_name=data.get("first_name") or "",
                       last_name=data.get("last_name") or "", user_id=data.get("user_id"),
                       status=data.get("status") or "not_invited", invitation_id=data.get("invitation_id"),
                       invited_at=when(data.get("invited_at")), expires_at=when(data.get("expires_at")))


def to_client(i: ClientItem) -> Client:
    return Client(client_id=i.client_id, partner_id=i.partner_id, name=i.name, plan=i.plan, created_at=i.created_at,
                  owners=[_owner(o) for o in (i.owners or [])], assigned_staff=list(i.assigned_staff or []),
                  preliminary_data=dict(i.preliminary_data or {}), version=int(i.version or 0))


def _attributes(c: Client) -> dict:
    return {"client_id": c.client_id, "partner_id": c.partner_id, "name": c.name, "plan": c.plan,
            "owners": [_owner_json(o) for o in c.owners], "assigned_staff": c.assigned_staff,
            "preliminary_data": c.preliminary_data, "created_at": c.created_at, "version": c.version}


class Clients:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, partner_id: str, client_id: str) -> Client | None:
        item = table.get(ClientItem, *keys.client(partner_id, client_id))
        return to_client(item) if item else None

    def get_many(self, partner_id: str, client_ids: list[str]) -> dict[str, Client]:
        found: dict[str, Client] = {}
        ids = list(dict.fromkeys(client_ids))
        for start in range(0, len(ids), 100):  # BatchGetItem takes 100 keys
            for item in table.batch_get([keys.client(partner_id, c) for c in ids[start:start + 100]]):
                if isinstance(item, ClientItem) and not isinstance(item, ClientCopyItem):
                    found[item.client_id] = to_client(item)
        return found

    def list(self, partner_id: str, filter_: str | None, limit: int, cursor: str | None) -> Page:
        """Newest first (client ids are time-ordered), one Query page of the whole list or of a filtered one."""
        scope = f"clients:{partner_id}:{filter_ or '*'}"
        items, last = table.query_page(keys.client_list(partner_id, filter_), Item.sk.startswith(keys.CLIENT),
                                       newest_first=True, limit=limit, start_key=self._cursors.decode(scope, cursor))
        return Page([to_client(i) for i in items], self._cursors.encode(scope, last))

    def add(self, tx: UnitOfWork, client: Client) -> None:
        tx.put("client.new", ClientItem(*keys.client(client.partner_id, client.client_id), **_attributes(client)),
               condition=ClientItem.pk.does_not_exist())
        self._copies(tx, client, set())

    def save(self, tx: UnitOfWork, client: Client, previous: Client) -> None:
        """The changed row, if nobody changed it since `previous` was read (condition `client.version`)."""
        client.version = previous.version + 1
        tx.put("client.version", ClientItem(*keys.client(client.partner_id, client.client_id), **_attributes(client)),
               condition=ClientItem.version == previous.version)
        self._copies(tx, client, previous.filters())

    def _copies(self, tx: UnitOfWork, client: Client, before: set[str]) -> None:
        after = client.filters()
        for filter_ in sorted(after):
            tx.put(f"client.copy.{filter_}", ClientCopyItem(keys.client_list(client.partner_id, filter_),
                                                            keys.CLIENT + client.client_id, **_attributes(client)))
        for filter_ in sorted(before - after):
            tx.delete(f"client.copy.{filter_}", ClientCopyItem(keys.client_list(client.partner_id, filter_),
                                                               keys.CLIENT + client.client_id))
