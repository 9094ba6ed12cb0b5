"""Mail is rendered here (Jinja2: a subject, a text part and an HTML part) and sent as simple content."""
from __future__ import annotations

import os
import re
from functools import lru_cache

from .deps import Deps
from .ports import MailMessage

_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates")
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")


@lru_cache(maxsize=1)
def _environments():
    # Jinja2 costs a few milliseconds to import: only requests that send mail or render a page pay for it.
    import jinja2

    loader = jinja2.FileSystemLoader(_TEMPLATES)
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    text = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)
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
