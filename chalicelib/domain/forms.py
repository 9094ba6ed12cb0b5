"""Digital forms a partner sends with an activation invitation, and the answers checked against them."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from .errors import ValidationFailed

FIELD_TYPES = ("text", "number", "date", "select", "checkbox")
MAX_FIELDS = 50
MAX_TEXT = 2000


@dataclass
class Form:
    form_id: str
    partner_id: str
    title: str
    fields: list[dict]
    created_at: datetime


@dataclass
class FormResponse:
    form_id: str
    account_id: str
    partner_id: str
    answers: dict
    submitted_at: datetime
    submitted_by: dict = field(default_factory=dict)  # {user_id, email}


def check_definition(fields: list[dict]) -> list[dict]:
    """Keys unique; a select has options (and only a select does)."""
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for n, f in enumerate(fields):
        if f["key"] in seen:
            problems[f"fields.{n}.key"] = "is used by another field"
        seen.add(f["key"])
        options = f.get("options")
        if f["type"] == "select" and not options:
            problems[f"fields.{n}.options"] = "a select field needs at least one option"
        if f["type"] != "select" and options is not None:
            problems[f"fields.{n}.options"] = "only a select field has options"
        if options is not None and len(set(options)) != len(options):
            problems[f"fields.{n}.options"] = "lists the same option twice"
    if problems:
        raise ValidationFailed(details=problems)
    return [{"key": f["key"], "label": f["label"], "type": f["type"], "required": bool(f.get("required")),
             **({"options": list(f["options"])} if f.get("options") else {})} for f in fields]


def _answer_problem(f: dict, value) -> str | None:
    kind = f["type"]
    if kind == "text":
        return None if isinstance(value, str) and len(value) <= MAX_TEXT else f"must be text of at most {MAX_TEXT} characters"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "must be a number"
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:
            return "must be a date as YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a real date as YYYY-MM-DD"
        return None
    if kind == "select":
        return None if value in f["options"] else "must be one of: " + ", ".join(f["options"])
    if kind == "checkbox":
        return None if isinstance(value, bool) else "must be true or false"
    return "has an unknown type"


def check_answers(form: Form, answers: dict) -> dict:
    """The answers, or ValidationFailed naming each field that is missing, unknown or of the wrong kind."""
    problems: dict[str, str] = {}
    by_key = {f["key"]: f for f in form.fields}
    for key in answers:
        if key not in by_key:
            problems[f"answers.{key}"] = "is not a field of this form"
    for key, f in by_key.items():
        value = answers.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip())
        if empty:
            if f["required"]:
                problems[f"answers.{key}"] = "is required"
            continue
        problem = _answer_problem(f, value)
        if problem:
            problems[f"answers.{key}"] = problem
    if problems:
        raise ValidationFailed(details=problems)
    return {k: v for k, v in answers.items() if v is not None}
