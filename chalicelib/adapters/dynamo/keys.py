"""Every key of the table, built in one place. Sort keys that mean "newest first" end in time-ordered ids."""
from __future__ import annotations

import hashlib
from datetime import datetime

DUE_SHARDS = 4  # the sweep's index is spread over a few partitions so that no one of them gets hot


def stamp(value: datetime) -> str:
    """The one timestamp format inside keys: sorts as text in time order."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# base table ------------------------------------------------------------------------------------
def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user(user_id: str) -> tuple[str, str]:
    return user_pk(user_id), "PROFILE"


def email_owner(email: str) -> tuple[str, str]:
    """The sentinel that makes an email belong to one user."""
    return f"EMAIL#{email}", "USER"


def signup(email: str) -> tuple[str, str]:
    """The newest sign-up attempt for an address not yet confirmed (one per address: a newer one replaces it)."""
    return f"EMAIL#{email}", "SIGNUP"


def token(token_hash: str) -> tuple[str, str]:
    return f"TOKEN#{token_hash}", "TOKEN"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def partner_pk(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def parent_pk(target_type: str, target_id: str) -> str:
    """The partition of an account or a partner (its members or staff, invitations, seats and audit), or of a
    user (their profile and their own audit)."""
    if target_type == "user":
        return user_pk(target_id)
    return account_pk(target_id) if target_type == "account" else partner_pk(target_id)


def account(account_id: str) -> tuple[str, str]:
    return account_pk(account_id), "ACCOUNT"


def partner(partner_id: str) -> tuple[str, str]:
    return partner_pk(partner_id), "PARTNER"


MEMBER, STAFF, SEAT, INVITE, AUDIT, APPLICATION = "MEMBER#", "STAFF#", "SEAT#", "INVITE#", "AUDIT#", "APPLICATION#"
CLIENT, FORM, JOB = "CLIENT#", "FORM#", "JOB#"


def member(account_id: str, user_id: str) -> tuple[str, str]:
    return account_pk(account_id), MEMBER + user_id


def staff(partner_id: str, user_id: str) -> tuple[str, str]:
    return partner_pk(partner_id), STAFF + user_id


def seat(parent: str, email: str) -> tuple[str, str]:
    return parent, SEAT + email


def invitation(parent: str, invitation_id: str) -> tuple[str, str]:
    return parent, INVITE + invitation_id


def client(partner_id: str, client_id: str) -> tuple[str, str]:
    """The client row: the firm's list entry for one client account, rewritten with every owner change."""
    return partner_pk(partner_id), CLIENT + client_id


def client_list(partner_id: str, filter_: str | None) -> str:
    """The partition of the firm's client list under a filter (`status:…`, `staff:…`, both), or the whole list."""
    return f"{partner_pk(partner_id)}#CLIENTS#{filter_}" if filter_ else partner_pk(partner_id)


def form(partner_id: str, form_id: str) -> tuple[str, str]:
    return partner_pk(partner_id), FORM + form_id


def form_response(account_id: str, form_id: str) -> tuple[str, str]:
    return account_pk(account_id), f"FORMRESPONSE#{form_id}"


def job(partner_id: str, job_id: str) -> tuple[str, str]:
    return partner_pk(partner_id), JOB + job_id


def job_result(partner_id: str, job_id: str, client_id: str, email: str) -> tuple[str, str]:
    return f"{partner_pk(partner_id)}#{JOB}{job_id}", f"RESULT#{client_id}#{email}"


def suppressed(email: str) -> tuple[str, str]:
    """An address that bounced hard or complained: no more mail until a person confirms a new invitation."""
    return f"EMAIL#{email}", "SUPPRESSED"


def application(account_id: str, user_id: str) -> tuple[str, str]:
    return account_pk(account_id), APPLICATION + user_id


def audit(parent: str, event_id: str) -> tuple[str, str]:
    return parent, AUDIT + event_id


def rate(key: str, window_start: datetime) -> tuple[str, str]:
    return f"RATE#{key}#{int(window_start.timestamp())}", "RATE"


def outbox(to: str | None) -> str:
    return f"OUTBOX#{to or '*'}"


# gsi1: things of an email --------------------------------------------------------------------------
def by_email(email: str) -> str:
    return f"EMAIL#{email}"


# gsi2: queues across the table ---------------------------------------------------------------------
def due_shard(invitation_id: str) -> str:
    return f"DUE#{int(hashlib.sha256(invitation_id.encode()).hexdigest(), 16) % DUE_SHARDS}"


def due_shards() -> list[str]:
    return [f"DUE#{n}" for n in range(DUE_SHARDS)]


def due_sort(expires_at: datetime, parent: str, invitation_id: str) -> str:
    return f"{stamp(expires_at)}#{parent}#{invitation_id}"


def review_queue(status: str) -> str:
    """Applications by review status, across every account (platform reviewers' lists)."""
    return f"REVIEW#{status}"


def review_sort(at: datetime, account_id: str, user_id: str) -> str:
    return f"{stamp(at)}#{account_id}#{user_id}"


# gsi3: a parent's lists under a filter --------------------------------------------------------------
def invitation_list(parent: str, bucket: str) -> str:
    """`open` holds pending and expired invitations ordered by expiry; the others hold one status each."""
    return f"{parent}#INVITES#{bucket}"


def open_sort(expires_at: datetime, invitation_id: str) -> str:
    return f"{stamp(expires_at)}#{invitation_id}"


def members_by_role(account_id: str, role: str) -> str:
    return f"{account_pk(account_id)}#MEMBERS#{role}"
