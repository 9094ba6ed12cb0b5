"""Local stage only (`make run`): the mail outbox, a mail page, the business clock and jobs. 404 elsewhere."""
from __future__ import annotations

import time

from chalice import Blueprint

from .. import container
from ..domain.emails import normalize_email
from ..domain.errors import NotFound
from ..services import bulk, jobs  # noqa: F401  (bulk registers its queue drain as a job)
from ..services import mail_events
from ..services.invitations import expiry  # noqa: F401  (registers the expiry sweep as a job)
from . import budgets, present, schemas
from .budgets import Budget
from .http import LOCAL_ONLY, endpoint
from .pages import page, style_attribute_hashes

bp = Blueprint(__name__)


def deliver_queued_mail(deps, patience_seconds: float = 5.0) -> None:
    """The mail queue's worker, run here and now: what is queued is sent before the outbox is read (the local
    stack's poller may hold a message meanwhile: wait until it has sent it too)."""
    from ..services import deliveries

    queue = deps.mail_queue
    if queue is None:
        return
    deadline = time.monotonic() + patience_seconds
    while True:
        queue.drain(lambda job: deliveries.deliver(deps, job))
        if queue.in_flight() == 0 or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _outbox(call) -> list[dict]:
    from ..adapters.dynamo.outbox import DynamoOutbox

    to = call.query.get("to")
    deliver_queued_mail(container.deps())  # also binds the table
    return DynamoOutbox().list(normalize_email(to) if to else None)


DELIVERS = Budget(reads=30, queries=1, writes=30, transactions=5,
                  note="sends the queued mail first, as the mail worker would (local stage only)")


@endpoint(bp, "/_dev/outbox", "GET", scope=LOCAL_ONLY, budget=DELIVERS, tag="local", query=("to",),
          summary="Mail sent by the local stack, newest first (queued mail is sent first)")
def outbox(call):
    return {"items": _outbox(call)}


@endpoint(bp, "/_dev/mail", "GET", scope=LOCAL_ONLY, budget=DELIVERS, tag="local", query=("to",), produces="text/html",
          summary="A page listing the local mail with clickable links")
def mail_page(call):
    mails = [{**m, "preview": _preview(m["html"])} for m in _outbox(call)]
    return page("dev_mail", mails=mails, to=call.query.get("to"),
                style_attributes=style_attribute_hashes([m["preview"] for m in mails]))


def _preview(html: str | None) -> str:
    """The mail's HTML for the page's sandboxed frame (`srcdoc`, escaped by the template): its links open in the
    page itself when clicked, as they would from a mail program, instead of inside the frame."""
    html = html or ""
    head = html.find("<head>")
    if head < 0:
        return '<base target="_top">' + html
    return html[:head + len("<head>")] + '<base target="_top">' + html[head + len("<head>"):]


@endpoint(bp, "/_dev/clock", "POST", scope=LOCAL_ONLY, budget=budgets.NONE, body=schemas.CLOCK, tag="local",
          summary="Move the business clock forward")
def advance_clock(call):
    return {"now": present.ts(container.clock.advance(call.body["advance_seconds"]))}


@endpoint(bp, "/_dev/clock", "DELETE", scope=LOCAL_ONLY, budget=budgets.NONE, tag="local", summary="Back to real time")
def reset_clock(call):
    return {"now": present.ts(container.clock.reset())}


@endpoint(bp, "/_dev/jobs/{name}", "POST", scope=LOCAL_ONLY,
          budget=Budget(queries=4, transactions=100, note="a job's work grows with what is due; Lambda runs it on a schedule"), tag="local",
          summary="Run a scheduled job now (e.g. expire-invitations)")
def run_job(call):
    name = call.params["name"]
    if name not in jobs.JOBS:
        raise NotFound(f"No job is called {name!r}. Jobs: {', '.join(sorted(jobs.JOBS)) or 'none'}.")
    return {"job": name, "result": jobs.run(call.deps, name)}


@endpoint(bp, "/_dev/mail-events", "POST", scope=LOCAL_ONLY, body=schemas.MAIL_EVENT, tag="local",
          budget=Budget(reads=0, queries=1, transactions=10, writes=1, note="one per pending invitation to the address"),
          summary="Feed a simulated SES bounce or complaint through the real handler")
def mail_event(call):
    b = call.body
    if b["type"] == "bounce":
        notification = {"eventType": "Bounce", "bounce": {"bounceType": b.get("bounce_type", "Permanent"),
                                                           "bouncedRecipients": [{"emailAddress": b["email"]}]}}
    else:
        notification = {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": b["email"]}]}}
    return {"event": notification, "result": mail_events.handle(call.deps, notification)}
