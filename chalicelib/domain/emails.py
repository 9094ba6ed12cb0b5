"""Email addresses: one normal form for storage and comparison, and a syntax check."""
from __future__ import annotations

import re
import unicodedata

# Deliberately simple: one @, a dot in the domain, no spaces or control characters.
# Deliverability is proven by the verification or invitation link, not by syntax.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})")  # host names, in ASCII
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f]{1,253}\.[^@\s\x00-\x1f\x7f-\x9f.]{2,63}")


def normalize_email(raw: str) -> str:
    """One form per mailbox: trimmed, NFC, lower-case, and the domain in its ASCII (IDNA) form, the one mail
    is sent to: `" Ann@Bücher.example "` and `"ann@xn--bcher-kva.example"` are the same address."""
    email = unicodedata.normalize("NFC", raw.strip()).lower()
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email  # not a domain name: is_valid_email refuses it


def is_valid_email(email: str) -> bool:
    """True when a normalised address has a plausible shape and a safe length. Quoted or escaped local parts
    (`"ann"@x.com`, the same mailbox as `ann@x.com`) are refused, so one mailbox has one spelling."""
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return False
    local, domain = email.rsplit("@", 1)
    return bool(_DOMAIN.fullmatch(domain)) and '"' not in local and "\\" not in local
