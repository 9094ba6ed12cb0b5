"""Mail is rendered here (Jinja2: a subject, a text part and an HTML part) and sent as simple content."""
from __future__ import annotations

import os
import re
from functools import lru_cache

from .deps import Deps
from .ports import MailMessage

_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates")
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")
# What mail programs turn into links: a scheme, `www.`, an address, or a dotted name (evil.example/login).
_LINKISH = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*|www\.|@|(?<=\w)\.(?=\w)", re.IGNORECASE)


def unlinked(text) -> str:
    """User-written text with nothing a mail program would make clickable: `https://evil.example` becomes
    `https[:]//evil[.]example`. Shown as the writer's words, never as a link of ours."""
    if text is None:
        return ""

    def defuse(match: re.Match) -> str:
        found = match.group(0)
        if found == "@":
            return "[at]"
        if found == ".":
            return "[.]"
        if found.lower() == "www.":
            return found[:3] + "[.]"
        return found.replace(":", "[:]", 1)

    return _LINKISH.sub(defuse, str(text))


@lru_cache(maxsize=1)
def _environments():
    # Jinja2 costs a few milliseconds to import: only requests that send mail or render a page pay for it.
    import jinja2

    loader = jinja2.FileSystemLoader(_TEMPLATES)
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    text = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)
    for env in (html, text):
        env.filters["unlinked"] = unlinked
    return html, text


def render_page(name: str, **context) -> str:
    """An HTML page of the site (autoescaped)."""
    html, _ = _environments()
    return html.get_template(f"pages/{name}.html").render(**context)


def render(name: str, links: list[str], to: list[str], **context) -> MailMessage:
    """Render `mail/<name>.{subject.txt,txt,html}` into a message ready to send."""
    html_env, text_env = _environments()
    subject = " ".join(text_env.get_template(f"mail/{name}.subject.txt").render(**context).split())
    for value in [subject, *to]:
        if _UNSAFE_HEADER.search(value):
            raise ValueError("header injection attempt refused")
    return MailMessage(
        to=to,
        subject=subject,
        text=text_env.get_template(f"mail/{name}.txt").render(**context),
        html=html_env.get_template(f"mail/{name}.html").render(**context),
        links=links,
    )


def send(deps: Deps, name: str, to: str, links: list[str], **context) -> str:
    """Render and send one mail to one address; returns the message id."""
    return deps.mailer.send(render(name, links, [to], **context))
