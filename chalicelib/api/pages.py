"""HTML responses: strict CSP, no referrer, no third-party assets, never cached.

A page carries its style sheet (and the invitation page its script) inline, so opening a mailed link costs one
request. The Content-Security-Policy allows exactly those blocks by their SHA-256, computed here once at import:
no 'unsafe-inline', and a block that changes without its hash is refused by the browser.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

from chalice import Response

from ..services.mail import render_page

_PAGES = Path(__file__).resolve().parent.parent / "templates" / "pages"
STYLE = (_PAGES / "latchkey.css").read_text(encoding="utf-8")
SCRIPTS = {"invitation": (_PAGES / "invite.js").read_text(encoding="utf-8")}
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle="([^"]*)\"""")

BASE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def source_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline block (its UTF-8 bytes, as the browser hashes)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def style_attribute_hashes(documents: list[str]) -> list[str]:
    """The hashes of every `style="…"` attribute in these HTML documents (the local mail page shows mail, whose
    styles are attributes, in frames that inherit the page's policy)."""
    values = {html.unescape(v) for doc in documents for v in _STYLE_ATTRIBUTE.findall(doc or "")}
    return sorted(source_hash(v) for v in values)


_STYLE_HASH = source_hash(STYLE)
_SCRIPT_HASHES = {name: source_hash(script) for name, script in SCRIPTS.items()}


def policy(name: str, style_attributes: list[str] | None = None) -> str:
    """The Content-Security-Policy of page `name`: nothing but its own inline blocks, posting to this site."""
    script = _SCRIPT_HASHES.get(name)
    directives = ["default-src 'none'", f"style-src {_STYLE_HASH}"]
    if style_attributes:
        directives.append("style-src-attr 'unsafe-hashes' " + " ".join(style_attributes))
    if script:
        directives += [f"script-src {script}", "connect-src 'self'"]
    else:
        directives.append("script-src 'none'")
    directives += ["form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]
    return "; ".join(directives)


def page(name: str, status: int = 200, *, style_attributes: list[str] | None = None, refused=None,
         **context) -> Response:
    """A page. `refused`: the error it answers, if any; a rate limit's page says when to come back
    (Retry-After), as its JSON twin does."""
    body = render_page(name, inline_style=STYLE, inline_script=SCRIPTS.get(name), **context)
    headers = {**BASE_HEADERS, "Content-Security-Policy": policy(name, style_attributes)}
    retry_after = getattr(refused, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(body=body, status_code=status, headers=headers)
