"""Authorized users: role changes, the application, and its review by platform reviewers."""
from __future__ import annotations

from chalice import Blueprint

from ..domain import scopes
from ..domain.applications import REVIEW_STATUSES
from ..domain.errors import ValidationFailed
from ..services import applications, members
from . import budgets, present, schemas
from .budgets import Budget
from .http import REVIEWER, endpoint
from .validation import parse_limit

bp = Blueprint(__name__)
ANY_MEMBER = scopes.account("account.view")


def _application(app, member=None) -> dict:
    """The whole application, for the applicant, the owners and reviewers."""
    details = app.details if app else {}
    return {"account_id": member.account_id if member else app.account_id,
            "user_id": member.user_id if member else app.user_id, "email": member.email if member else app.email,
            "status": app.status if app else "required",
            "member_status": member.status if member else None,
            **{key: details.get(key) for key in ("legal_first_name", "legal_last_name", "date_of_birth", "phone",
                                                 "title", "address")},
            "submitted_at": present.ts(app.submitted_at) if app else None,
            "decided_at": present.ts(app.decided_at) if app else None,
            "reason": app.reason if app else None}


def _queue_entry(app) -> dict:
    return {"account_id": app.account_id, "account_name": app.account_name, "user_id": app.user_id,
            "email": app.email, "legal_first_name": app.details.get("legal_first_name"),
            "legal_last_name": app.details.get("legal_last_name"), "status": app.status,
            "submitted_at": present.ts(app.submitted_at), "decided_at": present.ts(app.decided_at)}


@endpoint(bp, "/accounts/{account_id}/members/{user_id}", "PATCH",
          scope=scopes.account("authorized_users.add", "authorized_users.remove"), budget=budgets.WRITE_READ,
          body=schemas.CHANGE_ROLE, tag="members",
          summary="Upgrade an admin to authorized user (starts the application) or back; other changes are 409")
def change_role(call):
    return present.member(*members.change_role(call.deps, call.ctx, call.params["user_id"], call.body["role"]))


@endpoint(bp, "/accounts/{account_id}/members/me/application", "PUT", scope=ANY_MEMBER, budget=budgets.WRITE,
          body=schemas.APPLICATION, tag="applications",
          summary="Save the caller's authorized-user application as a draft (validated)")
def save_application(call):
    app = applications.save_draft(call.deps, call.ctx, call.body)
    member = call.ctx.membership
    return _application(app, member)


@endpoint(bp, "/accounts/{account_id}/members/me/application", "GET", scope=ANY_MEMBER, budget=budgets.READ,
          tag="applications", summary="The caller's own authorized-user application")
def read_my_application(call):
    app, member = applications.read(call.deps, call.ctx, "me")
    return _application(app, member)


@endpoint(bp, "/accounts/{account_id}/members/me/application/submit", "POST", scope=ANY_MEMBER,
          budget=Budget(reads=2, transactions=1, note="the owners' addresses, kept on the application for the "
                        "decision's mail"), tag="applications",
          summary="Submit the draft: it goes to review; the owners and the reviewers are told")
def submit_application(call):
    app = applications.submit(call.deps, call.ctx)
    return {"account_id": app.account_id, "user_id": app.user_id, "status": "in_review",
            "member_status": "in_review", "submitted_at": present.ts(app.submitted_at)}


@endpoint(bp, "/accounts/{account_id}/members/{user_id}/application", "GET", scope=ANY_MEMBER,
          budget=Budget(reads=3, note="an owner reads the member and their application"), tag="applications",
          summary="An authorized user's application: for the applicant and the account's owners only")
def read_application(call):
    app, member = applications.read(call.deps, call.ctx, call.params["user_id"])
    return _application(app, member)


@endpoint(bp, "/reviews/applications", "GET", scope=REVIEWER, budget=budgets.LIST, tag="reviews",
          query=("status", "limit", "cursor"),
          summary="Applications by review status (default in_review), newest first; platform reviewers only")
def review_queue(call):
    limit, cursor = parse_limit(call.query)
    status = call.query.get("status") or "in_review"
    if status not in REVIEW_STATUSES:
        raise ValidationFailed(details={"status": "must be one of: " + ", ".join(REVIEW_STATUSES)})
    page = applications.review_queue(call.deps, call.ctx, status, limit, cursor)
    return present.page([_queue_entry(a) for a in page.items], page.next_cursor)


@endpoint(bp, "/reviews/applications/{account_id}/{user_id}", "GET", scope=REVIEWER, budget=budgets.READ,
          tag="reviews", summary="One submitted application with its details; platform reviewers only")
def review_one(call):
    return _application(applications.for_review(call.deps, call.ctx, call.params["account_id"],
                                                 call.params["user_id"]))


@endpoint(bp, "/reviews/applications/{account_id}/{user_id}/approve", "POST", scope=REVIEWER,
          budget=budgets.WRITE_READ, tag="reviews", summary="Approve: full authorized-user rights at once")
def approve(call):
    app = applications.approve(call.deps, call.ctx, call.params["account_id"], call.params["user_id"])
    return {"account_id": app.account_id, "user_id": app.user_id, "status": "approved", "role": "authorized_user",
            "member_status": "active"}


@endpoint(bp, "/reviews/applications/{account_id}/{user_id}/reject", "POST", scope=REVIEWER,
          budget=budgets.WRITE_READ, body=schemas.REJECT, tag="reviews",
          summary="Reject with a reason: back to admin, the slot freed, the details deleted")
def reject(call):
    app = applications.reject(call.deps, call.ctx, call.params["account_id"], call.params["user_id"],
                              call.body["reason"])
    return {"account_id": app.account_id, "user_id": app.user_id, "status": "rejected", "role": "admin",
            "member_status": "active", "reason": app.reason}
