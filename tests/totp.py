"""Codes of an authenticator app for the tests: RFC 6238 (SHA-1, six digits, 30 seconds), as moto's user pool
checks them with `MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true` (the current step only)."""
from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

STEP = 30


def code(secret: str, at: float | None = None) -> str:
    """The code the app shows at `at` (now by default)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    totp = TOTP(key, 6, SHA1(), STEP, enforce_key_length=False)
    return totp.generate(int(time.time() if at is None else at)).decode()


def fresh_code(secret: str, margin: float = 3.0) -> str:
    """The current code, taken far enough from the end of its step to still be current when the pool reads it
    (near the end, it waits for the next step)."""
    left = STEP - time.time() % STEP
    if left < margin:
        time.sleep(left + 0.05)
    return code(secret)


def wrong_code(secret: str) -> str:
    """Six digits that are not the current code."""
    return f"{(int(fresh_code(secret)) + 1) % 1_000_000:06d}"
