"""One validation for every string: each string field of every body schema names its kind of text, and the kinds
refuse what SECURITY.md 28 refuses."""
from __future__ import annotations

import pytest

import app  # noqa: F401  (importing the app registers every route)
from chalicelib.api.http import ROUTES
from chalicelib.api.validation import TEXT_FORMATS, clean_text, is_free_text, is_line, parse_limit
from chalicelib.domain.errors import ValidationFailed


def _strings(schema: dict, path: str = ""):
    if schema.get("type") == "string":
        yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _strings(sub, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        yield from _strings(schema["items"], f"{path}[]")


def test_every_string_field_of_every_body_schema_names_its_kind_of_text():
    untyped = [f"{spec.method} {spec.path} {field}" for spec in ROUTES if spec.body
               for field, schema in _strings(spec.body)
               if "enum" not in schema and schema.get("format") not in TEXT_FORMATS]
    assert untyped == []


@pytest.mark.parametrize("char", ["\x00", "\r", "\n", "\t", "\x85", "\u2028", "\u2029", "\u202e", "\u2066",
                                  "\u200b", "\u200d", "\ufeff", "\u00a0", "\ue000"])
def test_a_line_refuses_controls_format_and_separator_characters(char):
    assert not is_line(f"Ada{char}Lovelace")
    assert is_line("Ada Lovelace-Byron O'Neil") and is_line("José Ñúñez 李")


def test_free_text_keeps_its_lines_but_nothing_else_of_that_kind():
    assert is_free_text("Hello,\nsee you\r\nsoon")
    assert not is_free_text("Hello \u202e") and not is_free_text("tab\there")


def test_every_string_is_well_formed_and_nfc_normalised_keys_included():
    problems: dict = {}
    cleaned = clean_text({"name": "Jose\u0301", "nested": {"x": ["e\u0301"]}}, [], problems)
    assert cleaned == {"name": "Jos\u00e9", "nested": {"x": ["\u00e9"]}} and problems == {}
    clean_text({"name": "Ada\ud800", "\udc00key": "x"}, [], problems)
    assert problems["name"].startswith("is not valid text") and len(problems) == 2


@pytest.mark.parametrize("raw", [" 50", "50 ", "1_0", "\u0665\u0660", "+5", "5.0", "0x10", "", "0", "201", "1000"])
def test_limit_takes_only_ascii_digits_from_1_to_200(raw):
    with pytest.raises(ValidationFailed):
        parse_limit({"limit": raw})


def test_limit_in_ascii_digits_is_taken():
    assert parse_limit({"limit": "50"})[0] == 50 and parse_limit({"limit": "200"})[0] == 200
