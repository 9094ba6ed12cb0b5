"""Link tokens: 32 random bytes in the mail, only their SHA-256 in the table."""
from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The stored form of a mailed token. Lookups go by this hash as the key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
