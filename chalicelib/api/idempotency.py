"""`Idempotency-Key` on every creating POST: the same key from the same caller with the same body within 24 h
answers the first response again (`Idempotent-Replayed: true`) and does nothing twice; the same key with
another body is 422; a request still in flight with that key is 409.

Records live in the one table (Powertools' idempotency utility, on the app's own DynamoDB client): a
conditional put marks the request in progress, the response is stored when it succeeds, and errors are
not stored (a retry after an error runs again). The key is scoped to the caller, the method and the path.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import threading
from typing import Any, Callable

from ..domain.errors import DomainError, ValidationFailed

HEADER = "idempotency-key"
TTL_SECONDS = 24 * 3600
_current: contextvars.ContextVar[Callable[[], dict]] = contextvars.ContextVar("idempotent_work")
_replayed: contextvars.ContextVar[bool] = contextvars.ContextVar("idempotent_replayed", default=False)
_lock = threading.Lock()
_cache: dict = {}


class KeyReused(DomainError):
    """The key was used before with another body."""

    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request body."


class InProgress(DomainError):
    """A request with this key is still running."""

    code = "request_in_progress"
    default_message = "A request with this Idempotency-Key is still in progress; retry in a moment."


def key_of(headers: dict) -> str | None:
    value = (headers or {}).get(HEADER)
    if value is None:
        return None
    if not 1 <= len(value) <= 255 or not value.isprintable() or not value.isascii():
        raise ValidationFailed(details={"Idempotency-Key": "must be 1 to 255 printable ASCII characters"})
    return value


def _worker():
    """The decorated function, built once per container (Powertools binds its config at decoration)."""
    with _lock:
        if "run" in _cache:
            return _cache["run"]
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer

        from .. import container
        from ..adapters.dynamo import connection

        container.deps()  # binds the table and its connection
        store = DynamoDBPersistenceLayer(table_name=connection.table(), key_attr="pk", sort_key_attr="sk",
                                         static_pk_value="IDEMPOTENCY", expiry_attr="ttl",
                                         boto3_client=connection.connection().client)
        config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body",
                                   expires_after_seconds=TTL_SECONDS, raise_on_no_idempotency_key=True,
                                   hash_function="sha256",
                                   response_hook=lambda response, _record: (_replayed.set(True), response)[1])

        @idempotent_function(data_keyword_argument="request", persistence_store=store, config=config)
        def run(request: dict) -> dict:
            return _current.get()()

        _cache["run"], _cache["config"] = run, config
        return run


def run_once(caller: str, method: str, path: str, key: str, body: Any, work: Callable[[], dict],
             lambda_context=None) -> tuple[dict, bool]:
    """`work()` once for this caller, route and key (its stored result otherwise); (result, replayed)."""
    import warnings

    from aws_lambda_powertools.utilities.idempotency.exceptions import (IdempotencyAlreadyInProgressError,
                                                                        IdempotencyValidationError)

    scoped = hashlib.sha256(json.dumps([caller, method, path, key]).encode()).hexdigest()
    _current.set(work)
    _replayed.set(False)
    worker = _worker()
    if lambda_context is not None:
        # In Lambda the in-progress mark expires with the invocation, so a request killed by a timeout
        # does not hold its key for a day.
        _cache["config"].register_lambda_context(lambda_context)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
            result = worker(request={"key": scoped, "body": body})
    except IdempotencyValidationError as exc:
        raise KeyReused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise InProgress() from exc
    return result, _replayed.get()


def reset() -> None:
    with _lock:
        _cache.clear()
