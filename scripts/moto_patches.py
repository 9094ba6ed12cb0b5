"""moto's DynamoDB at the cost of what a call touches, not of the whole table.

moto 5.2's `transact_write_items` deep-copies every table a transaction names, once per entry, so
that it can put the copy back if any entry fails; and `Table.query` on a partition sorts every item
of the table before it keeps the partition's. Both grow with the table: a bulk job that writes one
transaction per client on a table that grows with each client is quadratic.

`apply()` changes two things and nothing else:

- a transaction keeps a copy of only the items its entries name (and the length of the table's
  stream) and, when moto cancels it, puts exactly those back. moto's own code still runs every
  entry, decides the cancellation and builds its reasons, so they are the same as moto reports
  them; it just copies the table objects as themselves.
- a Query on the table's own key (no index) looks at the items of that partition only. Queries on a
  secondary index still look at every item (moto keeps no index structures).

And one for long sessions: moto's BaseModel keeps every model object it ever creates in a class-level
list (`instances_tracked`, read only by moto's dashboard), so every item a Query returned stayed in
memory for good. After `apply()` new objects are no longer listed there.

`revert()` undoes all three. `make run`'s moto server applies them; tests may, with `apply`/`revert`.
"""
from __future__ import annotations

import contextvars
import copy
import functools
import inspect
import threading
from typing import Any

_lock = threading.Lock()
_originals: dict[str, Any] = {}
# Set while moto runs a transaction: deep copies of tables are then the tables themselves.
_in_transaction = contextvars.ContextVar("latchkey_moto_transaction", default=False)
# Set while a Query on a table's own partition key runs: that partition's hash value.
_partition = contextvars.ContextVar("latchkey_moto_partition", default=None)


class _CopyModule:
    """Stands in for the `copy` module inside moto's DynamoDB backend module."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and _in_transaction.get():
            return value  # the rollback copy: the entries' items are kept aside instead
        return copy.deepcopy(value, memo)


def _item_key(table, op_type: str, op: dict):
    """(hash, range) DynamoTypes of the item a transaction entry names, or None when moto will refuse it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except Exception:  # malformed: moto reports it and changes nothing for it
        return None
    if table.range_key_attr and table.range_key_attr not in attrs:
        return None
    return hash_value, range_value


def _stored(table, hash_value, range_value):
    if table.range_key_attr:
        return table.items[hash_value].get(range_value) if hash_value in table.items else None
    return table.items.get(hash_value)


def _put_back(table, hash_value, range_value, before) -> None:
    if table.range_key_attr:
        if before is None:
            if hash_value in table.items:
                table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = before
    elif before is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = before


def _transact_write_items(original):
    @functools.wraps(original)
    def transact_write_items(self, transact_items):
        # What each entry names, as it is now (moto refuses more than 100 entries before touching any).
        kept = []
        streams = {}
        for entry in transact_items[:100] if isinstance(transact_items, list) else []:
            if not isinstance(entry, dict) or len(entry) != 1:
                continue
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = _item_key(table, op_type, op) if table is not None else None
            if key is None:
                continue
            kept.append((table, *key, copy.deepcopy(_stored(table, *key))))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        token = _in_transaction.set(True)
        try:
            return original(self, transact_items)
        except BaseException:
            # moto cancelled it: it "restored" the tables, which are the same objects. Undo each entry.
            for table, hash_value, range_value, before in reversed(kept):
                _put_back(table, hash_value, range_value, before)
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            _in_transaction.reset(token)

    return transact_write_items


def _query(original):
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self, hash_key, *args, **kwargs):
        index_name = signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name")
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        token = _partition.set(hash_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _partition.reset(token)

    return query


def _all_items(original):
    @functools.wraps(original)
    def all_items(self):
        hash_key = _partition.get()
        if hash_key is None:
            return original(self)
        # Only the partition the query names; query() still keeps items by hash key and sorts them.
        bucket = self.items.get(hash_key)
        if bucket is None:
            return []
        return sorted(bucket.values(), key=lambda item: item.range_key) if self.range_key_attr else [bucket]

    return all_items


def _untracked_new(cls, *args, **kwargs):
    from moto.core.common_models import BaseModel

    return super(BaseModel, cls).__new__(cls)


def apply() -> None:
    """Patch moto in this process (idempotent)."""
    import moto.dynamodb.models as backend_module
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    with _lock:
        if _originals:
            return
        _originals.update(copy=backend_module.copy, transact=DynamoDBBackend.transact_write_items,
                          query=Table.query, all_items=Table.all_items, new=BaseModel.__dict__["__new__"])
        backend_module.copy = _CopyModule()
        DynamoDBBackend.transact_write_items = _transact_write_items(_originals["transact"])
        Table.query = _query(_originals["query"])
        Table.all_items = _all_items(_originals["all_items"])
        BaseModel.__new__ = staticmethod(_untracked_new)
        reset_model_data()  # forget the objects listed so far (the backends keep what they hold)


def revert() -> None:
    """Put moto back as it was."""
    import moto.dynamodb.models as backend_module
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    with _lock:
        if not _originals:
            return
        backend_module.copy = _originals.pop("copy")
        DynamoDBBackend.transact_write_items = _originals.pop("transact")
        Table.query = _originals.pop("query")
        Table.all_items = _originals.pop("all_items")
        BaseModel.__new__ = _originals.pop("new")


def applied() -> bool:
    return bool(_originals)
