"""The authorized-user application: the applicant drafts and submits it, a platform reviewer decides.

The details are personal data: shown only to the applicant, the account's owners and reviewers, never
logged, and deleted when their purpose ends (the member leaves, is removed, is made an admin again, or
the application is rejected). The decision and its time stay in the account's audit.
"""
from __future__ import annotations

import logging

from ..domain import applications as rules
from ..domain.applications import Application
from ..domain.errors import InvalidState, NotFound
from ..domain.model import Membership, Page
from . import audit, mail
from .access import AccountAccess, UserAccess, deny
from .deps import Deps

log = logging.getLogger(__name__)
AU = "authorized_user"


def _require_applicant(ctx: AccountAccess) -> Membership:
    """Only an authorized user whose application is still required may draft and submit it."""
    m = ctx.membership
    if ctx.acting_for or m.role != AU or m.status != "application_required":
        raise InvalidState("There is no authorized-user application for you to fill in on this account.")
    return m


def save_draft(deps: Deps, ctx: AccountAccess, details: dict) -> Application:
    member = _require_applicant(ctx)
    rules.check_details(details, deps.clock.now().date())
    app = Application(ctx.account.account_id, member.user_id, member.email, "draft", details,
                      account_name=ctx.account.name, created_at=deps.clock.now())
    tx = deps.store.transaction()
    deps.store.accounts.require_member(tx, member)
    deps.store.applications.save_draft(tx, app)
    tx.commit()
    return app


def submit(deps: Deps, ctx: AccountAccess) -> Application:
    """draft -> in_review; the member's status follows; the owners and the reviewers are told."""
    member = _require_applicant(ctx)
    now = deps.clock.now()
    app = Application(ctx.account.account_id, member.user_id, member.email, "in_review",
                      account_name=ctx.account.name, submitted_at=now)
    owners = deps.store.users.get_many(list(ctx.account.owner_ids))
    notify = sorted(u.email for u in owners.values())
    tx = deps.store.transaction()
    deps.store.applications.submit(tx, app, now, notify)
    deps.store.accounts.change_role(tx, member, AU, "in_review")
    deps.store.audit.add(tx, ctx.audit_event(deps, "application.submitted", "user", member.user_id))
    tx.commit()
    applicant = ctx.user.display_name
    for to, for_reviewer in [*((o, False) for o in notify), *((r, True) for r in sorted(deps.settings.reviewer_emails))]:
        _mail(deps, "application_submitted", to, applicant=applicant, account_name=ctx.account.name,
              for_reviewer=for_reviewer)
    return app


def read(deps: Deps, ctx: AccountAccess, user_id: str) -> tuple[Application | None, Membership]:
    """For the applicant and the account's owners; anyone else is refused (and it is audited)."""
    mine = user_id in ("me", ctx.membership.user_id)
    if not mine and ctx.membership.role != "owner":
        raise deny(deps, ctx, "application.view", "Only the applicant and the account's owner can see an "
                   "application.", user_id=user_id)
    member = ctx.membership if mine else deps.store.accounts.get_member(ctx.account.account_id, user_id)
    if member is None:
        raise NotFound()
    app = deps.store.applications.get(ctx.account.account_id, member.user_id)
    if app is None and member.role != AU:
        raise NotFound("This member has no authorized-user application.")
    return app, member


# platform reviewers --------------------------------------------------------------------------------
def review_queue(deps: Deps, ctx: UserAccess, status: str, limit: int, cursor: str | None) -> Page:
    return deps.store.applications.list_for_review(status, limit, cursor)


def for_review(deps: Deps, ctx: UserAccess, account_id: str, user_id: str) -> Application:
    app = deps.store.applications.get(account_id, user_id)
    if app is None or app.status == "draft":
        raise NotFound()
    return app


def approve(deps: Deps, ctx: UserAccess, account_id: str, user_id: str) -> Application:
    """Full authorized-user rights at once; the applicant and the owners are told."""
    return _decide(deps, ctx, account_id, user_id, "approved", None)


def reject(deps: Deps, ctx: UserAccess, account_id: str, user_id: str, reason: str) -> Application:
    """Back to admin, the slot freed, the details deleted; the applicant and the owners get the reason."""
    return _decide(deps, ctx, account_id, user_id, "rejected", reason)


def _decide(deps: Deps, ctx: UserAccess, account_id: str, user_id: str, status: str, reason: str | None):
    found = deps.store.applications.get(account_id, user_id)
    rules.require_independent_reviewer(found, ctx.user.user_id, ctx.user.email)
    app = rules.require_in_review(found)
    now = deps.clock.now()
    applicant = Membership(account_id, user_id, AU, "in_review", now, email=app.email)
    tx = deps.store.transaction()
    deps.store.applications.decide(tx, app, status, now, ctx.user.user_id, reason)
    if status == "approved":
        deps.store.accounts.change_role(tx, applicant, AU, "active")
    else:
        deps.store.accounts.change_role(tx, applicant, "admin", "active")
        deps.store.accounts.release_slot(tx, account_id)
    deps.store.audit.add(tx, audit.account_event(deps, account_id, f"application.{status}", ctx.actor, "user",
                                                 user_id, reviewed_by=ctx.user.email))
    tx.commit()  # 409 invalid_state for the second of two reviewers deciding at once
    name = " ".join(filter(None, [app.details.get("legal_first_name"), app.details.get("legal_last_name")])) or app.email
    for to in [app.email, *app.notify]:
        _mail(deps, "application_decided", to, approved=status == "approved", applicant=name,
              account_name=app.account_name, reason=reason, to_applicant=to == app.email)
    app.status, app.decided_at, app.decided_by, app.reason = status, now, ctx.user.user_id, reason
    if status == "rejected":
        app.details = {}
    return app


def _mail(deps: Deps, template: str, to: str, **context) -> None:
    try:
        mail.send(deps, template, to, [], **context)
    except Exception:  # the decision stands whether or not the mail goes out
        log.exception("could not send the application mail", extra={"template": template})
