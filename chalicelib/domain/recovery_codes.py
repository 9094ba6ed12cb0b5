"""Recovery codes: one-time codes that stand in for a lost authenticator app.

A set of ten is shown once, when the app is confirmed (or when the user asks for a new set); only their
digests are kept. One of them, with the password, turns the app off and signs in (`services.identity`), and
the whole set goes with the app. Ten characters of base32 each (50 bits), written `ABCDE-FGHIJ`; what a person
types back is read without case, spaces or dashes.
"""
from __future__ import annotations

import base64
import hashlib
import re

COUNT = 10
LENGTH = 10
_CODE = re.compile(f"[A-Z2-7]{{{LENGTH}}}")


def from_random(raw: str) -> str:
    """A code from a random token (the service's secrets source): ten base32 characters, dashed in the middle."""
    text = base64.b32encode(hashlib.sha256(raw.encode()).digest()).decode()[:LENGTH]
    return f"{text[:5]}-{text[5:]}"


def normalize(typed: str) -> str | None:
    """The code a person typed, as it was made (None if it cannot be one): case, spaces and dashes ignored."""
    text = re.sub(r"[\s-]", "", typed).upper()
    return text if _CODE.fullmatch(text) else None


def digest(user_id: str, code: str) -> str:
    """What is kept of a code: bound to its user, so one user's code never matches another's digest."""
    return hashlib.sha256(f"recovery:{user_id}:{normalize(code) or code}".encode()).hexdigest()
