"""Bulk jobs under their partner, and one result item per owner in the job's own partition.

A result is written in the same transaction as its invitation, on condition it is new: a message delivered
twice does each owner's work once, and the counters move once.
"""
from __future__ import annotations

from ...domain.jobs import Job, JobResult
from ...domain.model import Page
from . import keys, table
from .cursors import Cursors
from .invitations import parent_of
from .models import InviteItem, JobItem, JobResultItem
from .unit_of_work import UnitOfWork


def to_job(i: JobItem) -> Job:
    return Job(job_id=i.job_id, partner_id=i.partner_id, created_at=i.created_at, total=int(i.total or 0),
               status=i.status, succeeded=int(i.succeeded or 0), failed=int(i.failed or 0),
               remaining=int(i.remaining or 0), form_id=i.form_id, created_by=dict(i.created_by or {}))


def to_result(i: JobResultItem) -> JobResult:
    return JobResult(i.client_id, i.email, i.status, i.invitation_id, i.error, bool(i.mailed))


def _job_key(partner_id: str, job_id: str) -> JobItem:
    return JobItem(*keys.job(partner_id, job_id))


class Jobs:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, partner_id: str, job_id: str) -> Job | None:
        item = table.get(JobItem, *keys.job(partner_id, job_id))
        return to_job(item) if item else None

    def results(self, partner_id: str, job_id: str, limit: int, cursor: str | None) -> Page:
        scope = f"job:{partner_id}:{job_id}"
        items, last = table.query_page(keys.job_result(partner_id, job_id, "", "")[0], limit=limit,
                                       start_key=self._cursors.decode(scope, cursor))
        return Page([to_result(i) for i in items], self._cursors.encode(scope, last))

    def results_for(self, partner_id: str, job_id: str, owners: list[tuple[str, str]]) -> dict:
        """The results already written for these (client_id, email) pairs: redelivered work is skipped."""
        found: dict = {}
        wanted = [keys.job_result(partner_id, job_id, c, e) for c, e in owners]
        for start in range(0, len(wanted), 100):
            for item in table.batch_get(wanted[start:start + 100]):
                if isinstance(item, JobResultItem):
                    found[(item.client_id, item.email)] = to_result(item)
        return found

    def add(self, tx: UnitOfWork, job: Job) -> None:
        tx.put("job.new", JobItem(*keys.job(job.partner_id, job.job_id), job_id=job.job_id, partner_id=job.partner_id,
                                  status=job.status, total=job.total, remaining=job.total, form_id=job.form_id,
                                  created_at=job.created_at, created_by=job.created_by),
               condition=JobItem.pk.does_not_exist())

    def record(self, tx: UnitOfWork, partner_id: str, job_id: str, result: JobResult) -> None:
        """This owner's outcome, once (condition `job.result`), and the job's counters with it."""
        tx.put("job.result", JobResultItem(*keys.job_result(partner_id, job_id, result.client_id, result.email),
                                           client_id=result.client_id, email=result.email, status=result.status,
                                           invitation_id=result.invitation_id, error=result.error, mailed=result.mailed),
               condition=JobResultItem.pk.does_not_exist())
        counter = JobItem.succeeded if result.succeeded else JobItem.failed
        tx.update("job.counts", _job_key(partner_id, job_id),
                  [counter.add(1), JobItem.remaining.add(-1), JobItem.status.set("running")],
                  condition=JobItem.pk.exists())

    def mark_mailed(self, tx: UnitOfWork, partner_id: str, job_id: str, result: JobResult, inv) -> None:
        """After the mail went out: the result says so, and so does the invitation (if it still has that link)."""
        tx.update(f"job.mailed.{result.client_id}.{result.email}",
                  JobResultItem(*keys.job_result(partner_id, job_id, result.client_id, result.email)),
                  [JobResultItem.mailed.set(True)])
        tx.update(f"job.sent.{inv.invitation_id}", InviteItem(*keys.invitation(parent_of(inv), inv.invitation_id)),
                  [InviteItem.delivery_status.set("sent")], condition=InviteItem.token_hash == inv.token_hash)

    def finish(self, partner_id: str, job_id: str) -> bool:
        """`done` once every owner has an outcome (the message that brings `remaining` to 0 closes it)."""
        from pynamodb.exceptions import UpdateError

        try:
            _job_key(partner_id, job_id).update(actions=[JobItem.status.set("done")],
                                                condition=(JobItem.remaining <= 0) & (JobItem.status != "done"))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
