"""The one table from domain error codes to HTTP statuses, and the error envelope."""
from __future__ import annotations

from chalice import Response

from ..domain.errors import DomainError, RateLimited

STATUS = {
    "validation_error": 400, "invalid_json": 400, "invalid_mfa_code": 400,
    "unauthenticated": 401, "invalid_credentials": 401, "mfa_session_expired": 401,
    "forbidden": 403, "email_mismatch": 403, "email_not_verified": 403, "mfa_required": 403,
    "not_found": 404, "method_not_allowed": 405,
    "already_member": 409, "invitation_pending": 409, "authorized_user_limit": 409,
    "invalid_state": 409, "last_owner": 409, "user_exists": 409, "address_suppressed": 409,
    "request_in_progress": 409,
    "invitation_expired": 410, "invitation_revoked": 410, "invitation_accepted": 410,
    "invitation_declined": 410,
    "unsupported_media_type": 415,
    "idempotency_key_reused": 422,
    "rate_limited": 429,
    "internal_error": 500,
}

SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(code: str, message: str, details: dict | None = None, headers: dict | None = None) -> Response:
    return Response(body=envelope(code, message, details), status_code=STATUS[code],
                    headers={"Content-Type": "application/json", **SECURITY_HEADERS, **(headers or {})})


def from_domain(exc: DomainError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.code if exc.code in STATUS else "invalid_state", exc.message, exc.details, headers)
