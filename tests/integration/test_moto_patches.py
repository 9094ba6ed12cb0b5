"""scripts/moto_patches.py: transactions and partition queries on moto cost what they touch.

Each behaviour is checked against unpatched moto on the same calls: a cancelled transaction leaves
the table as it was, with the same cancellation reasons; and the work a transaction or a Query does
(items deep-copied, items looked at) no longer grows with the table.
"""
from __future__ import annotations

import contextlib

import pytest

from scripts.moto_patches import applied, apply, revert

TABLE = "patch-test"


@pytest.fixture
def aws(monkeypatch):
    """Credentials for moto; each helper below starts its own fresh mock_aws."""
    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    was_applied = applied()  # the test suite runs patched (tests/conftest.py): these tests start from plain moto
    revert()
    yield
    revert()
    if was_applied:
        apply()


@contextlib.contextmanager
def patched(on: bool):
    if on:
        apply()
    try:
        yield
    finally:
        revert()


def _client():
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


def _table(client, items: int) -> None:
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    for name in ("b", "c", "d"):
        client.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": name}, "n": {"N": "1"}})
    for i in range(items):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"OTHER#{i % 50}"}, "sk": {"S": f"{i:05d}"},
                                               "payload": {"S": "x" * 100}})


def _dump(client) -> list:
    items, start = [], None
    while True:
        page = client.scan(TableName=TABLE, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _key(sk: str) -> dict:
    return {"pk": {"S": "P"}, "sk": {"S": sk}}


TRANSACTIONS = {
    # put a new item, update one, delete one, then a check that fails: nothing may stay
    "a failing check at the end": [
        {"Put": {"TableName": TABLE, "Item": {**_key("a"), "n": {"N": "9"}}}},
        {"Update": {"TableName": TABLE, "Key": _key("b"), "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("c")}},
        {"ConditionCheck": {"TableName": TABLE, "Key": _key("d"), "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ],
    "a failing update first": [
        {"Update": {"TableName": TABLE, "Key": _key("b"), "UpdateExpression": "SET n = :two",
                    "ConditionExpression": "n = :nine",
                    "ExpressionAttributeValues": {":two": {"N": "2"}, ":nine": {"N": "9"}}}},
        {"Put": {"TableName": TABLE, "Item": {**_key("a"), "n": {"N": "9"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("d"), "ConditionExpression": "attribute_exists(pk)"}},
    ],
    "two entries on one item": [
        {"Put": {"TableName": TABLE, "Item": {**_key("a"), "n": {"N": "9"}}}},
        {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
    ],
    "all entries succeed": [
        {"Put": {"TableName": TABLE, "Item": {**_key("a"), "n": {"N": "9"}}}},
        {"Update": {"TableName": TABLE, "Key": _key("b"), "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("c")}},
        {"ConditionCheck": {"TableName": TABLE, "Key": _key("d"), "ConditionExpression": "attribute_exists(pk)"}},
    ],
}


def _outcome(items: list, on: bool) -> tuple:
    """(error code, cancellation reasons, table contents before, table contents after) of one transaction."""
    import moto
    from botocore.exceptions import ClientError

    with moto.mock_aws(), patched(on):
        client = _client()
        _table(client, 20)
        before = _dump(client)
        try:
            client.transact_write_items(TransactItems=items)
            error = reasons = None
        except ClientError as exc:
            error = exc.response["Error"]["Code"]
            reasons = exc.response.get("CancellationReasons")
        return error, reasons, before, _dump(client)


@pytest.mark.parametrize("name", sorted(TRANSACTIONS))
def test_a_transaction_ends_exactly_as_on_unpatched_moto(aws, name):
    # GIVEN the same table and the same transaction, on moto as it is and on the patched moto
    plain = _outcome(TRANSACTIONS[name], on=False)
    fixed = _outcome(TRANSACTIONS[name], on=True)
    # THEN the error, its cancellation reasons and the table afterwards are the same
    assert fixed == plain
    error, reasons, before, after = fixed
    if name == "all entries succeed":
        assert error is None and after != before
    else:
        # all or nothing: a refused transaction leaves every item as it was
        assert error in ("TransactionCanceledException", "ValidationException") and after == before
    if name == "a failing check at the end":
        assert [r["Code"] for r in reasons] == ["None", "None", "None", "ConditionalCheckFailed"]
        assert reasons[3]["Item"] == {**_key("d"), "n": {"N": "1"}}


def _items_copied(monkeypatch, on: bool, table_items: int) -> int:
    """Items moto deep-copies for one four-entry transaction that gets cancelled, on a table of that size."""
    import moto
    from botocore.exceptions import ClientError
    from moto.dynamodb.models.dynamo_type import Item

    with moto.mock_aws(), patched(on):
        client = _client()
        _table(client, table_items)
        copied = []
        original = Item.__deepcopy__

        def counting(self, memo):
            copied.append(1)
            return original(self, memo)

        with monkeypatch.context() as m:
            m.setattr(Item, "__deepcopy__", counting)
            with pytest.raises(ClientError):
                client.transact_write_items(TransactItems=TRANSACTIONS["a failing check at the end"])
        return len(copied)


def test_the_cost_of_a_transaction_no_longer_grows_with_the_table(aws, monkeypatch):
    # GIVEN the same transaction on a table of 10 and of 400 items
    plain = [_items_copied(monkeypatch, False, n) for n in (10, 400)]
    fixed = [_items_copied(monkeypatch, True, n) for n in (10, 400)]
    # THEN moto as it is copies the whole table for each entry, and the patched moto copies
    # the same few items whatever the table holds
    assert plain[1] - plain[0] >= 4 * 390
    assert fixed[0] == fixed[1] <= 4 + 1


def _items_looked_at(on: bool, table_items: int) -> tuple[int, list]:
    """Items moto's Query goes through to answer one partition of three, and the answer."""
    import moto
    from moto.dynamodb.models.table import Table

    with moto.mock_aws(), patched(on):
        client = _client()
        _table(client, table_items)
        seen = []
        all_items = Table.all_items

        def counting(self):
            items = all_items(self)
            seen.append(len(items))
            return items

        Table.all_items = counting
        try:
            answer = client.query(TableName=TABLE, KeyConditionExpression="pk = :p AND sk > :a",
                                  ExpressionAttributeValues={":p": {"S": "P"}, ":a": {"S": "b"}},
                                  ScanIndexForward=False)["Items"]
        finally:
            Table.all_items = all_items
        return sum(seen), answer


def test_a_query_on_a_partition_looks_only_at_that_partition(aws):
    plain = [_items_looked_at(False, n) for n in (10, 400)]
    fixed = [_items_looked_at(True, n) for n in (10, 400)]
    # The same answers (newest first, range condition applied) ...
    assert [a for _, a in fixed] == [a for _, a in plain]
    assert [i["sk"]["S"] for i in fixed[1][1]] == ["d", "c"]
    # ... for the partition's three items instead of the whole table.
    assert plain[1][0] >= 400 and fixed[0][0] == fixed[1][0] == 3


def _items_alive_after_queries(on: bool, queries: int) -> int:
    import gc

    import moto
    from moto.dynamodb.models.dynamo_type import Item

    with moto.mock_aws(), patched(on):
        client = _client()
        _table(client, 10)
        for _ in range(queries):
            client.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "P"}})
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, Item))


def test_answered_queries_leave_nothing_behind_in_a_long_session(aws):
    # moto as it is keeps every item it ever returned; patched, the live items are the table's own
    plain = [_items_alive_after_queries(False, n) for n in (10, 60)]
    fixed = [_items_alive_after_queries(True, n) for n in (10, 60)]
    assert plain[1] - plain[0] >= 50 * 3
    assert fixed[1] - fixed[0] <= 3


def test_apply_and_revert_leave_moto_as_it_was(aws):
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    before = (DynamoDBBackend.transact_write_items, Table.query, Table.all_items, BaseModel.__dict__["__new__"])
    apply()
    apply()  # idempotent
    assert applied() and DynamoDBBackend.transact_write_items is not before[0]
    revert()
    assert not applied()
    assert (DynamoDBBackend.transact_write_items, Table.query, Table.all_items, BaseModel.__dict__["__new__"]) == before
