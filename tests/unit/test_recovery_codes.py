"""Recovery codes as data: how they are made, read back from what a person types, and kept."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import recovery_codes


@given(st.text(min_size=1, max_size=64))
def test_a_made_code_is_ten_base32_characters_and_reads_back_as_itself(raw):
    code = recovery_codes.from_random(raw)

    assert re.fullmatch("[A-Z2-7]{5}-[A-Z2-7]{5}", code)
    assert recovery_codes.normalize(code) == code.replace("-", "")
    assert recovery_codes.normalize(f"  {code.lower().replace('-', ' ')} ") == code.replace("-", "")


@given(st.text(max_size=30))
def test_whatever_is_typed_is_either_a_code_or_nothing(typed):
    read = recovery_codes.normalize(typed)

    assert read is None or re.fullmatch("[A-Z2-7]{10}", read)


def test_what_cannot_be_a_code_is_nothing():
    for typed in ("", "ABCDE", "ABCDE-FGHI1", "ABCDE-FGHIJK", "ABCDE_FGHIJ", "ABCDE-FGH\u0130J", "\uff21BCDE-FGHIJ"):
        assert recovery_codes.normalize(typed) is None, typed


def test_a_kept_digest_is_bound_to_its_user_and_blind_to_spelling():
    digest = recovery_codes.digest("usr_1", "ABCDE-FGHIJ")

    assert digest == recovery_codes.digest("usr_1", "abcde fghij")
    assert digest != recovery_codes.digest("usr_2", "ABCDE-FGHIJ")
    assert "ABCDE" not in digest and len(digest) == 64
