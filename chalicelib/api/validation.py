"""Request bodies are checked against JSON Schemas (the same ones the OpenAPI document publishes).

Every string of a body passes one text check first (`clean_text`): it must be well-formed Unicode (a lone
UTF-16 surrogate is refused) and is NFC-normalised. The schemas then say which kind of text each field is:
`line` (names, emails, account names: no control, format or separator character but the plain space),
`free-text` (messages, reasons: newlines too), or `secret` (passwords and tokens: any well-formed text).
"""
from __future__ import annotations

import json
import unicodedata
from functools import lru_cache

from ..domain.emails import is_valid_email, normalize_email
from ..domain.errors import InvalidJson, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
TEXT_FORMATS = ("line", "free-text", "secret", "email")
# Control (Cc), format (Cf: bidi overrides, zero-width characters, BOM), line and paragraph separators (Zl, Zp),
# surrogates (Cs), private use (Co) and unassigned (Cn) code points. Other spaces than U+0020 are Zs.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn", "Zs"})
_NEWLINES = frozenset("\n\r")


def is_line(value: str) -> bool:
    """Text shown on one line (names, addresses, subjects): no control, format or separator character."""
    return not any(ch != " " and unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in value)


def is_free_text(value: str) -> bool:
    """Text a person writes (messages, reasons): like a line, and it may break into lines."""
    return not any(ch != " " and ch not in _NEWLINES and unicodedata.category(ch) in _REFUSED_CATEGORIES
                   for ch in value)


def _well_formed(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON's "\ud800" decodes to one
        return False
    return True


def _shown(path: list) -> str:
    """A field path for the error details, itself safe to put in a response."""
    text = ".".join(str(p) for p in path) or "body"
    return text.encode("utf-8", "replace").decode("utf-8") if not _well_formed(text) else text


def clean_text(value, path: list | None = None, problems: dict | None = None):
    """Every string (keys included) well-formed and NFC-normalised; the problems found go to `problems`."""
    path = path or []
    if isinstance(value, str):
        if not _well_formed(value):
            if problems is not None:
                problems.setdefault(_shown(path), "is not valid text (it holds a lone surrogate)")
            return value
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if not _well_formed(key):
                if problems is not None:
                    problems.setdefault(_shown([*path, key]), "is not a known field")
                continue
            cleaned[unicodedata.normalize("NFC", key)] = clean_text(item, [*path, key], problems)
        return cleaned
    if isinstance(value, list):
        return [clean_text(item, [*path, n], problems) for n, item in enumerate(value)]
    return value


class _Ambiguous(Exception):
    """JSON that parsers read differently: a name given twice, NaN or Infinity (RFC 8259 has neither)."""


def _no_repeated_names(pairs: list) -> dict:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise _Ambiguous("The request body gives a name twice in one object.")
    return dict(pairs)


def _no_constant(name: str):
    raise _Ambiguous(f"The request body holds {name}, which JSON does not have.")


def parse_json(raw: bytes | None) -> dict:
    """The body as a JSON object; anything else is `invalid_json`."""
    if raw is None or raw.strip() == b"":
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationFailed("The request body is too large.", details={"body": "is larger than 64 KiB"})
    try:
        body = json.loads(raw, object_pairs_hook=_no_repeated_names, parse_constant=_no_constant)
    except _Ambiguous as exc:
        raise InvalidJson(str(exc)) from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidJson() from exc
    if not isinstance(body, dict):
        raise InvalidJson("The request body must be a JSON object.")
    return body


def _email(value) -> bool:
    return not isinstance(value, str) or (is_line(value) and is_valid_email(normalize_email(value)))


@lru_cache(maxsize=None)
def _validator(schema_json: str):
    # jsonschema is imported on the first request with a body, not at cold start.
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("email")(_email)
    checker.checks("line")(lambda value: not isinstance(value, str) or is_line(value))
    checker.checks("free-text")(lambda value: not isinstance(value, str) or is_free_text(value))
    checker.checks("secret")(lambda value: True)  # any well-formed text: the pre-pass checked that
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
        "format": lambda: {"email": "is not a valid email address"}.get(error.validator_value,
                                                                        "contains characters that are not allowed"),
        "minimum": lambda: f"must be at least {error.validator_value}",
        "maximum": lambda: f"must be at most {error.validator_value}",
        "maxItems": lambda: f"must have at most {error.validator_value} items",
        "minItems": lambda: f"must have at least {error.validator_value} items",
        "minProperties": lambda: "must not be empty",
        "const": lambda: f"must be {error.validator_value!r}",
    }
    return path or "body", messages.get(v, lambda: "is not valid")()


def validate(body: dict, schema: dict) -> dict:
    """Raise ValidationFailed with field -> problem for every broken rule; return the body, its text cleaned."""
    problems: dict[str, str] = {}
    body = clean_text(body, [], problems)
    if problems:
        raise ValidationFailed(details=problems)
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


_LIMIT_PROBLEM = "must be a whole number from 1 to 200"


def parse_limit(query: dict | None) -> tuple[int, str | None]:
    """`?limit=` (1..200 in ASCII digits, default 50) and `?cursor=`."""
    query = query or {}
    raw = query.get("limit")
    if raw is None:
        limit = 50
    else:
        # int() would take " 50", "1_0" and other scripts' digits: only 0-9, at most three of them
        if not (isinstance(raw, str) and 0 < len(raw) <= 3 and raw.isascii() and raw.isdigit()):
            raise ValidationFailed(details={"limit": _LIMIT_PROBLEM})
        limit = int(raw)
        if not 1 <= limit <= 200:
            raise ValidationFailed(details={"limit": _LIMIT_PROBLEM})
    cursor = query.get("cursor") or None
    if cursor is not None and (len(cursor) > 1024 or not cursor.isascii()):
        raise ValidationFailed(details={"cursor": "is not a cursor from this list"})
    return limit, cursor
