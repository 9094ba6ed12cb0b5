"""Bulk activation invitations: the API validates and queues a job; a queue worker invites, paced to SES.

A job is split into messages of 25 clients. For each owner not yet active the worker writes, in one
transaction, the invitation, its link, the client row, the audit event, the partner's daily bulk quota and
the owner's job result (on condition it is new, so a redelivered message does nothing twice). Mail goes out
at the account's SES send rate; the sends are recorded together at the end of the message. Failed messages
are reported back to SQS one by one (partial batch response), retried, and end in the dead-letter queue.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from ..domain import jobs as rules
from ..domain.clients import ACTIVATION_DAYS
from ..domain.errors import DomainError, NotFound, ValidationFailed
from ..domain.jobs import Job, JobResult
from ..domain.model import Account, Membership, Page
from . import ratelimit
from .access import AccountAccess, PartnerAccess, deny
from .deps import Deps
from .invitations import inviter
from .jobs import job
from .principal import Principal

log = logging.getLogger(__name__)


def start(deps: Deps, ctx: PartnerAccess, client_ids: list[str], form_id: str | None) -> Job:
    """Validate, record the job, queue its messages; 202 before any invitation is written."""
    client_ids = list(dict.fromkeys(client_ids))
    found = deps.store.clients.get_many(ctx.partner.partner_id, client_ids)
    if ctx.staff.role == "staff":
        found = {c: row for c, row in found.items() if ctx.staff.user_id in row.staff_ids}
    missing = [c for c in client_ids if c not in found]
    if missing:
        raise ValidationFailed(details={"client_ids": f"not clients of this partner: {', '.join(missing[:5])}"})
    if form_id is not None and deps.store.forms.get(ctx.partner.partner_id, form_id) is None:
        raise ValidationFailed(details={"form_id": "is not a form of this partner"})
    now = deps.clock.now()
    job = Job(job_id=deps.secrets.new_id("job"), partner_id=ctx.partner.partner_id, created_at=now,
              total=sum(len(found[c].owners) for c in client_ids), form_id=form_id,
              created_by={"user_id": ctx.user.user_id, "name": ctx.user.display_name, "email": ctx.user.email})
    tx = deps.store.transaction()
    deps.store.jobs.add(tx, job)
    deps.store.audit.add(tx, ctx.audit_event(deps, "bulk_invitation.queued", "job", job.job_id,
                                             clients=len(client_ids), owners=job.total))
    tx.commit()
    messages = [{"job_id": job.job_id, "partner_id": job.partner_id, "form_id": form_id,
                 "client_ids": client_ids[n:n + rules.CLIENTS_PER_MESSAGE]}
                for n in range(0, len(client_ids), rules.CLIENTS_PER_MESSAGE)]
    deps.queue.send_many(messages)
    if not messages:
        deps.store.jobs.finish(job.partner_id, job.job_id)
    return job


def read(deps: Deps, ctx: PartnerAccess, job_id: str, limit: int, cursor: str | None) -> tuple[Job, Page]:
    job = deps.store.jobs.get(ctx.partner.partner_id, job_id)
    if job is None:
        raise NotFound()
    if ctx.staff.role == "staff" and job.created_by.get("user_id") != ctx.staff.user_id:
        raise deny(deps, ctx, "clients.invite", "Staff see the jobs they started.", job_id=job_id)
    return job, deps.store.jobs.results(ctx.partner.partner_id, job_id, limit, cursor)


# the worker ---------------------------------------------------------------------------------------
class Pacer:
    """At most `rate` sends a second, across one worker's whole batch."""

    def __init__(self, rate: float, sleep=time.sleep, clock=time.monotonic) -> None:
        self.interval = 1.0 / max(rate, 0.01)
        self._sleep, self._clock = sleep, clock
        self._next = clock()

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
        self._next = max(now, self._next) + self.interval


def send_rate(deps: Deps) -> float:
    """Configured (the local stack), or SES's own maximum send rate read at run time."""
    if deps.settings.mail_send_rate:
        return deps.settings.mail_send_rate
    reader = getattr(deps.mailer, "send_rate", None)
    try:
        return float(reader()) if reader else 1.0
    except Exception:
        log.exception("could not read the SES send rate; sending one mail a second")
        return 1.0


@dataclass
class Pending:
    """An invitation written but not yet mailed (or, after a redelivery, not known to be mailed)."""

    result: JobResult
    invitation: object
    raw_token: str


def handle_batch(deps: Deps, event: dict, context=None) -> dict:
    """The SQS handler: each record one message; only the failed ones are reported back (partial batch)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    pacer = Pacer(send_rate(deps))
    return process_partial_response(event=event, record_handler=lambda record: handle_message(deps, json.loads(
        record.body), pacer), processor=BatchProcessor(event_type=EventType.SQS), context=context)


def handle_message(deps: Deps, message: dict, pacer: Pacer) -> dict:
    """One message: up to 25 clients' owners invited, mailed at the pace allowed, the sends recorded."""
    partner_id, job_id = message["partner_id"], message["job_id"]
    job = deps.store.jobs.get(partner_id, job_id)
    if job is None:
        log.warning("a bulk message for an unknown job was dropped", extra={"job_id": job_id})
        return {"dropped": True}
    clients_ = deps.store.clients.get_many(partner_id, message["client_ids"])
    done = deps.store.jobs.results_for(partner_id, job_id, [(c.client_id, o.email) for c in clients_.values()
                                                             for o in c.owners])
    inviter_user = job.created_by
    pending: list[Pending] = []
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for client_id in message["client_ids"]:
        client = clients_.get(client_id)
        if client is None:
            continue
        ctx = _advisor(deps, client, inviter_user, partner_id)
        for owner in client.owners:
            previous = done.get((client.client_id, owner.email))
            if previous is not None:
                counts["skipped"] += 1
                if previous.status == "sent" and not previous.mailed:
                    pending.extend(_redo_mail(deps, ctx, previous))
                continue
            pending.extend(_one_owner(deps, ctx, job, client, owner, counts))
    known = deps.store.users.ids_for_emails([item.invitation.email for item in pending])
    for item in pending:
        pacer.wait()
        inviter.send_only(deps, item.invitation, item.raw_token, item.invitation.email in known)
    _record_sends(deps, partner_id, job_id, pending)
    deps.store.jobs.finish(partner_id, job_id)
    return counts


def _advisor(deps: Deps, client, user: dict, partner_id: str) -> AccountAccess:
    """The job's starter on the client account, as its advisor acting for the firm (no read needed: the
    transaction itself checks that the account is open)."""
    from ..domain.model import User

    now = deps.clock.now()
    account = Account(client.client_id, client.name, "client", client.created_at, plan=client.plan,
                      partner_id=partner_id, assigned_staff=client.staff_ids)
    person = User(user.get("user_id", ""), user.get("email", ""), user.get("name", ""), "", now, email_verified=True)
    member = Membership(client.client_id, person.user_id, "advisor", "active", now, email=person.email)
    return AccountAccess(Principal(person.user_id), person, account, member, acting_for=partner_id)


def _one_owner(deps: Deps, ctx: AccountAccess, job: Job, client, owner, counts: dict) -> list[Pending]:
    now = deps.clock.now()
    status = owner.activation_status(now)
    result = JobResult(client.client_id, owner.email, "sent")
    if status == "active":
        result.status = "already_active"
    elif status == "invited":
        result.status, result.invitation_id = "already_pending", owner.invitation_id
    if result.status != "sent":
        _record(deps, job, result)
        counts["skipped"] += 1
        return []
    limit = ratelimit.Limit(f"bulk:partner:{job.partner_id}", deps.settings.bulk_invites_per_partner_per_day, 86400)

    def extra(tx, inv) -> None:
        result.invitation_id = inv.invitation_id
        deps.store.jobs.record(tx, job.partner_id, job.job_id, result)

    try:
        inv, raw = inviter.create_unsent(deps, ctx, {
            "email": owner.email, "role": "owner", "first_name": owner.first_name or None,
            "last_name": owner.last_name or None, "expires_in_days": ACTIVATION_DAYS, "form_id": job.form_id},
            limits=[limit], extra=extra)
    except DomainError as exc:
        if exc.code == "invalid_state" and _already_recorded(deps, job, result):
            counts["skipped"] += 1  # a concurrent delivery of the same message did this owner
            return []
        result.status, result.error = ("already_pending", None) if exc.code == "invitation_pending" else \
            ("already_active", None) if exc.code == "already_member" else ("failed", exc.code)
        _record(deps, job, result)
        counts["failed" if result.status == "failed" else "skipped"] += 1
        return []
    counts["sent"] += 1
    return [Pending(result, inv, raw)]


def _already_recorded(deps: Deps, job: Job, result: JobResult) -> bool:
    return bool(deps.store.jobs.results_for(job.partner_id, job.job_id, [(result.client_id, result.email)]))


def _record(deps: Deps, job: Job, result: JobResult) -> None:
    tx = deps.store.transaction()
    deps.store.jobs.record(tx, job.partner_id, job.job_id, result)
    try:
        tx.commit()
    except DomainError:
        pass  # recorded by an earlier delivery of this message


def _redo_mail(deps: Deps, ctx: AccountAccess, previous: JobResult) -> list[Pending]:
    """A delivery that wrote the invitation but died before its mail: a new link goes out (the old one dies)."""
    try:
        inv, raw = inviter.renew_link(deps, ctx, previous.invitation_id or "")
    except DomainError:
        return []  # accepted, declined or revoked meanwhile: nothing to mail
    return [Pending(previous, inv, raw)]


def _record_sends(deps: Deps, partner_id: str, job_id: str, pending: list[Pending]) -> None:
    """Every send of this message marked at once: up to 50 results and their invitations per transaction."""
    sent = [p for p in pending if p.invitation.delivery_status == "sent"]
    for start in range(0, len(sent), 50):
        tx = deps.store.transaction()
        for item in sent[start:start + 50]:
            deps.store.jobs.mark_mailed(tx, partner_id, job_id, item.result, item.invitation)
        try:
            tx.commit()
        except DomainError:
            log.warning("some bulk sends could not be recorded (their invitations changed meanwhile)")


@job("bulk-invitations")
def drain(deps: Deps, max_batches: int = 5) -> dict:
    """The local stage's stand-in for SQS calling the worker: up to `max_batches` batches of ten messages go
    through the same handler; the ones it reports as failed stay on the queue (and reach the dead-letter queue
    after their last try, as SQS does)."""
    handled = failed = 0
    for _ in range(max_batches):
        records = deps.queue.receive(10)
        if not records:
            break
        report = handle_batch(deps, {"Records": records})
        failures = {f["itemIdentifier"] for f in report.get("batchItemFailures", [])}
        deps.queue.delete([r["receiptHandle"] for r in records if r["messageId"] not in failures])
        handled += len(records) - len(failures)
        failed += len(failures)
    return {"messages": handled, "failed": failed}
