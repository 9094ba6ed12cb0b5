"""List cursors: DynamoDB's LastEvaluatedKey, bound to the list it came from and signed (HMAC-SHA256).

A cursor from another list, or one changed by hand, is a validation error: the server never starts a
Query from a key it did not hand out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ...domain.errors import ValidationFailed

_BAD = "is not a cursor from this list"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cursors:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, last_key: dict | None) -> str | None:
        """The opaque cursor for the page after `last_key` (None at the end of the list)."""
        if not last_key:
            return None
        flat = {name: value["S"] for name, value in last_key.items()}
        payload = json.dumps(flat, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._mac(scope, payload))}"

    def decode(self, scope: str, cursor: str | None) -> dict | None:
        """The ExclusiveStartKey for a Query, or ValidationFailed for anything this list did not hand out."""
        if cursor is None:
            return None
        try:
            body, mac = cursor.split(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(mac), self._mac(scope, payload)):
                raise ValueError("signature")
            flat = json.loads(payload)
            if not isinstance(flat, dict) or not all(isinstance(v, str) for v in flat.values()):
                raise ValueError("shape")
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(details={"cursor": _BAD}) from exc
        return {name: {"S": value} for name, value in flat.items()}
