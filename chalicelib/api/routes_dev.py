"""Local stage only (`make run`): the mail outbox, a mail page, the business clock and jobs. 404 elsewhere."""
from __future__ import annotations

from chalice import Blueprint

from .. import container
from ..domain.emails import normalize_email
from ..domain.errors import NotFound
from ..services import jobs, sweep  # noqa: F401  (sweep registers its job)
from . import present, schemas
from .http import LOCAL_ONLY, endpoint
from .pages import page

bp = Blueprint(__name__)


def _outbox(call) -> list[dict]:
    from ..adapters.outbox import DynamoOutbox

    to = call.query.get("to")
    container.deps()  # binds the table
    return DynamoOutbox(container.clock).list(normalize_email(to) if to else None)


@endpoint(bp, "/_dev/outbox", "GET", permission=LOCAL_ONLY, tag="local", query=("to",),
          summary="Mail sent by the local stack, newest first")
def outbox(call):
    return {"items": _outbox(call)}


@endpoint(bp, "/_dev/mail", "GET", permission=LOCAL_ONLY, tag="local", query=("to",), produces="text/html",
          summary="A page listing the local mail with clickable links")
def mail_page(call):
    return page("dev_mail", mails=_outbox(call), to=call.query.get("to"))


@endpoint(bp, "/_dev/clock", "POST", permission=LOCAL_ONLY, body=schemas.CLOCK, tag="local",
          summary="Move the business clock forward")
def advance_clock(call):
    return {"now": present.ts(container.clock.advance(call.body["advance_seconds"]))}


@endpoint(bp, "/_dev/clock", "DELETE", permission=LOCAL_ONLY, tag="local", summary="Back to real time")
def reset_clock(call):
    return {"now": present.ts(container.clock.reset())}


@endpoint(bp, "/_dev/jobs/{name}", "POST", permission=LOCAL_ONLY, tag="local",
          summary="Run a scheduled job now (e.g. expire-invitations)")
def run_job(call):
    name = call.params["name"]
    if name not in jobs.JOBS:
        raise NotFound(f"No job is called {name!r}. Jobs: {', '.join(sorted(jobs.JOBS)) or 'none'}.")
    return {"job": name, "result": jobs.run(call.deps, name)}
