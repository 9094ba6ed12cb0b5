"""Who is calling, as proven by a verified access token."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: str
    source_ip: str | None = None
    issued_at: int | None = None  # the access token's `iat`, in seconds
    token_id: str | None = None  # the access token's `jti`
