"""The mail queue's worker: what the public identity routes leave for after their response.

A job names what happened (`signup`, `forgot`) and the address; only here does the work depend on whether
the address has a user, so the routes answer in the same time for known and unknown emails.
"""
from __future__ import annotations

import logging

from . import identity
from .deps import Deps

log = logging.getLogger(__name__)


def deliver(deps: Deps, job: dict) -> None:
    kind = job.get("job")
    if kind == "signup":
        _signup(deps, job["email"], job["attempt_id"], job.get("replaced"))
    elif kind == "forgot":
        _forgot(deps, job["email"])
    else:
        log.warning("unknown mail job", extra={"job": kind})


def _owner(deps: Deps, email: str):
    owner_id = deps.store.users.id_for_email(email)
    return deps.store.users.get(owner_id) if owner_id else None


def _signup(deps: Deps, email: str, attempt_id: str, replaced: str | None) -> None:
    if replaced:
        deps.identity.delete_user(replaced)  # the attempt this one replaced can no longer be confirmed
    owner = _owner(deps, email)
    if owner is not None and owner.email_verified:
        # The address has a user: this attempt confirms nothing; the owner is told, with a reset link instead.
        deps.identity.delete_user(attempt_id)
        deps.store.users.forget_registration(email, attempt_id)
        identity.mail_reset(deps, owner, template="account_exists")
        return
    reg = deps.store.users.registration(email)
    if reg is None or reg.attempt_id != attempt_id:
        return  # replaced by a newer sign-up meanwhile: that one's job mails its own link
    identity.mail_verification(deps, reg)


def _forgot(deps: Deps, email: str) -> None:
    owner = _owner(deps, email)
    if owner is not None:
        identity.mail_reset(deps, owner)
