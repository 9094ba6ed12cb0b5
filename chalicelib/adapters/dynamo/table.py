"""Reads shared by the repositories: one GetItem, one BatchGetItem, or exactly one Query page.

PynamoDB's own `query(limit=...)` keeps querying until it has `limit` matches (and adds a filter on the
item kind); a list here reads one page and hands its LastEvaluatedKey on as the cursor.
"""
from __future__ import annotations

from .models import Item


def get(model, hash_key: str, range_key: str):
    """The item, or None (strongly consistent)."""
    from pynamodb.exceptions import DoesNotExist

    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist:
        return None


def batch_get(keys: list[tuple[str, str]]) -> list:
    """Items of any kind for up to 100 keys, in one BatchGetItem (strongly consistent)."""
    keys = list(dict.fromkeys(keys))
    return list(Item.batch_get(keys, consistent_read=True)) if keys else []


def query_page(hash_key: str, range_condition=None, *, index: str | None = None, newest_first: bool = False,
               limit: int, start_key: dict | None = None) -> tuple[list, dict | None]:
    """One Query call: the items of one page and DynamoDB's LastEvaluatedKey (None at the end)."""
    data = Item._get_connection().query(
        hash_key, range_key_condition=range_condition, index_name=index, limit=limit,
        exclusive_start_key=start_key, scan_index_forward=not newest_first, consistent_read=index is None)
    return [Item.from_raw_data(raw) for raw in data.get("Items", [])], data.get("LastEvaluatedKey")
