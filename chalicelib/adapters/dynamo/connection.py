"""One DynamoDB connection (one botocore client) per process, shared by every model, index and transaction.

PynamoDB would otherwise build a connection — and a botocore client, tens of milliseconds of CPU
each — per model class. `bind` points every model at the table and at the one connection.
"""
from __future__ import annotations

import threading

from .models import INDEXES, MODELS, Item

_lock = threading.Lock()
_shared: dict = {}


def bind(table_name: str, region: str, host: str | None = None) -> None:
    """Point every model at a table (and an endpoint such as a moto server) through one new connection."""
    from pynamodb.connection import Connection

    with _lock:
        for model in MODELS:
            model.Meta.table_name = table_name
            model.Meta.region = region
            model.Meta.host = host
            model._connection = None
        for index in INDEXES:
            index._connection = None
        shared = Connection(region=region, host=host)
        first = Item._get_connection()
        shared.add_meta_table(first.get_meta_table())
        for model in MODELS:
            model._get_connection().connection = shared
        _shared.clear()
        _shared.update(connection=shared, table=table_name)


def connection():
    """The shared low-level connection (transactions use it too)."""
    if "connection" not in _shared:
        raise RuntimeError("the table is not bound: call connection.bind() first")
    return _shared["connection"]


def table() -> str:
    return _shared["table"]


def warm() -> None:
    """Build the botocore client now: in Lambda's init phase it costs the first request nothing."""
    connection().client  # noqa: B018 - the property builds and caches the client


def create_table(table_name: str, region: str, host: str | None = None) -> None:
    """Create the table with its three indexes and TTL on `ttl` (local stack and tests)."""
    bind(table_name, region, host)
    if not Item.exists():
        Item.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    connection().client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
