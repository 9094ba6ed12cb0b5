"""What a block of code asks of DynamoDB, read at the shared connection's botocore client."""
from __future__ import annotations

import contextlib

from chalicelib.adapters.dynamo import connection


@contextlib.contextmanager
def dynamodb_calls():
    """Names of the DynamoDB operations called inside the block, in order."""
    made: list[str] = []

    def record(model, **_):
        made.append(model.name)

    events = connection.connection().client.meta.events
    events.register("after-call.dynamodb", record)
    try:
        yield made
    finally:
        events.unregister("after-call.dynamodb", record)
