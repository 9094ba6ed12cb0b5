"""Opaque list cursors: only the sort key travels; the partition key is always set by the server."""
from __future__ import annotations

import base64
import json

from ..domain.errors import ValidationFailed


def encode(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": sort_key}).encode()).decode().rstrip("=")


def decode(cursor: str, prefix: str) -> str:
    """The sort key in a cursor; anything forged or foreign is a validation error, never a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except Exception as exc:
        raise ValidationFailed(details={"cursor": "is not a cursor from this list"}) from exc
    if not isinstance(key, str) or not key.startswith(prefix) or len(key) > 512:
        raise ValidationFailed(details={"cursor": "is not a cursor from this list"})
    return key
