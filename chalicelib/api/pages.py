"""HTML responses: strict CSP, no referrer, no third-party assets, never cached."""
from __future__ import annotations

from chalice import Response

from ..services.mail import render_page

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def page(name: str, status: int = 200, **context) -> Response:
    return Response(body=render_page(name, **context), status_code=status, headers=dict(PAGE_HEADERS))
