"""Structured logs: one JSON line per record, with the request id and every `extra=` field.

Lambda's default text format drops `extra=` fields and its root level is WARNING, so the package's
logger gets its own handler (Powertools' formatter) and its own level (`LOG_LEVEL`, INFO by default).
"""
from __future__ import annotations

import contextvars
import logging
import sys
import uuid

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_configured: list[bool] = []


class _Stdout(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at the time (Lambda's log stream; a test's capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def configure(level: str = "INFO") -> None:
    """Once per process: the `chalicelib` logger writes JSON lines to stdout at `level` (module loggers inherit it)."""
    if _configured:
        logging.getLogger("chalicelib").setLevel(level.upper())
        return
    # Powertools is imported here, on the first request, not when the app is imported (cold start).
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    handler = _Stdout()
    handler.setFormatter(LambdaPowertoolsFormatter(service="latchkey"))
    handler.addFilter(_RequestId())
    package = logging.getLogger("chalicelib")
    package.handlers = [handler]
    package.setLevel(level.upper())
    package.propagate = False
    _configured.append(True)


def start_request(request_id: str | None = None) -> str:
    """Tag every line logged from here on (in this context) with the request's id."""
    rid = request_id or uuid.uuid4().hex
    _request_id.set(rid)
    return rid
