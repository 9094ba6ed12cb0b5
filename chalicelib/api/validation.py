"""Request bodies are checked against JSON Schemas (the same ones the OpenAPI document publishes)."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from ..domain.emails import is_valid_email, normalize_email
from ..domain.errors import InvalidJson, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_json(raw: bytes | None) -> dict:
    """The body as a JSON object; anything else is `invalid_json`."""
    if raw is None or raw.strip() == b"":
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationFailed("The request body is too large.", details={"body": "is larger than 64 KiB"})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidJson() from exc
    if not isinstance(body, dict):
        raise InvalidJson("The request body must be a JSON object.")
    return body


@lru_cache(maxsize=None)
def _validator(schema_json: str):
    # jsonschema is imported on the first request with a body, not at cold start.
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("email")(lambda value: not isinstance(value, str) or is_valid_email(normalize_email(value)))
    # Names and subjects reach mail headers: no control character at all (a regex `$` would let a final LF by).
    checker.checks("safe-text")(lambda value: not isinstance(value, str) or not _CONTROL.search(value))
    return jsonschema.Draft202012Validator(json.loads(schema_json), format_checker=checker)


def _problem(error) -> tuple[str, str]:
    path = ".".join(str(p) for p in error.absolute_path)
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1]
        return (f"{path}.{missing}" if path else missing), "is required"
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        name = extra[0] if extra else "?"
        return (f"{path}.{name}" if path else name), "is not a known field"
    messages = {
        "type": lambda: f"must be of type {error.validator_value}",
        "maxLength": lambda: f"must be at most {error.validator_value} characters",
        "minLength": lambda: ("must not be empty" if error.validator_value == 1
                              else f"must be at least {error.validator_value} characters"),
        "enum": lambda: "must be one of: " + ", ".join(map(str, error.validator_value)),
        "pattern": lambda: "contains characters that are not allowed",
        "format": lambda: {"email": "is not a valid email address",
                           "safe-text": "contains characters that are not allowed"}.get(error.validator_value,
                                                                                          "has a bad format"),
        "minimum": lambda: f"must be at least {error.validator_value}",
        "maximum": lambda: f"must be at most {error.validator_value}",
        "maxItems": lambda: f"must have at most {error.validator_value} items",
        "minItems": lambda: f"must have at least {error.validator_value} items",
        "minProperties": lambda: "must not be empty",
        "const": lambda: f"must be {error.validator_value!r}",
    }
    return path or "body", messages.get(v, lambda: "is not valid")()


def validate(body: dict, schema: dict) -> dict:
    """Raise ValidationFailed with field -> problem for every broken rule; return the body."""
    errors = sorted(_validator(json.dumps(schema, sort_keys=True)).iter_errors(body),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        details: dict[str, str] = {}
        for error in errors:
            if error.validator == "additionalProperties":  # name every unknown field, not only the first
                prefix = ".".join(str(p) for p in error.absolute_path)
                for extra in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                    details.setdefault(f"{prefix}.{extra}" if prefix else extra, "is not a known field")
                continue
            field, problem = _problem(error)
            details.setdefault(field, problem)
        raise ValidationFailed(details=details)
    return body


def parse_limit(query: dict | None) -> tuple[int, str | None]:
    """`?limit=` (1..200, default 50) and `?cursor=`."""
    query = query or {}
    raw = query.get("limit")
    if raw is None:
        limit = 50
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationFailed(details={"limit": "must be a whole number from 1 to 200"}) from None
        if not 1 <= limit <= 200:
            raise ValidationFailed(details={"limit": "must be a whole number from 1 to 200"})
    cursor = query.get("cursor") or None
    if cursor is not None and len(cursor) > 1024:
        raise ValidationFailed(details={"cursor": "is not a cursor from this list"})
    return limit, cursor
