"""Email addresses: one normal form for storage and comparison, and a syntax check."""
from __future__ import annotations

import re

# Deliberately simple: one @, a dot in the domain, no spaces or control characters.
# Deliverability is proven by the verification or invitation link, not by syntax.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f]{1,253}\.[^@\s\x00-\x1f\x7f-\x9f.]{2,63}")


def normalize_email(raw: str) -> str:
    """Trim surrounding white space and lower-case: `"  A@x.com "` -> `"a@x.com"`."""
    return raw.strip().lower()


def is_valid_email(email: str) -> bool:
    """True when a normalised address has a plausible shape and a safe length."""
    return len(email) <= 254 and bool(_EMAIL.fullmatch(email)) and ".." not in email.split("@")[1]
