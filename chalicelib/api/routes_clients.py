"""The client portal: a firm's clients, their owners' activation, guests, bulk jobs, forms and the CSV export."""
from __future__ import annotations

from chalice import Blueprint, Response

from ..domain import scopes
from ..domain.clients import ACTIVATION_STATUSES
from ..domain.errors import ValidationFailed
from ..services import bulk, clients, exports, forms
from . import budgets, present, schemas
from .budgets import Budget
from .http import endpoint
from .routes_invitations import now
from .validation import parse_limit

bp = Blueprint(__name__)
PAGED = ("limit", "cursor")
PER_OWNER = Budget(reads=14, transactions=10, writes=10, note="the row and the account, whether the owners have a "
                   "login (one BatchGetItem), then per owner invited: the client row read again, one transaction, "
                   "the send recorded (a group has up to ten owners)")


def _client(c, users: dict | None = None, when=None) -> dict:
    users = users or {}
    return {"client_id": c.client_id, "partner_id": c.partner_id, "name": c.name, "plan": c.plan,
            "assigned_staff": c.assigned_staff, "preliminary_data": c.preliminary_data,
            "owners": [{"email": o.email, "first_name": o.first_name, "last_name": o.last_name, "user_id": o.user_id,
                        "activation_status": o.activation_status(when), "invitation_id": o.invitation_id,
                        "invited_at": present.ts(o.invited_at), "expires_at": present.ts(o.expires_at),
                        "last_login_at": present.ts(users[o.user_id].last_login_at)
                        if o.user_id in users else None} for o in c.owners],
            "created_at": present.ts(c.created_at)}


@endpoint(bp, "/partners/{partner_id}/clients", "POST", scope=scopes.partner("clients.create"),
          budget=Budget(reads=2, transactions=1, note="the assigned staff and their names in one BatchGetItem"),
          body=schemas.CREATE_CLIENT, status=201, tag="clients",
          summary="Create a client account with its owners (one, or a co-owner group); nothing is sent")
def create_client(call):
    return _client(clients.create(call.deps, call.ctx, call.body), when=now(call))


@endpoint(bp, "/partners/{partner_id}/clients", "GET", scope=scopes.partner("clients.view"),
          budget=Budget(reads=2, queries=1, note="the active owners' last sign-in lives on their profiles"),
          tag="clients", query=("status", "staff", *PAGED),
          summary="The firm's clients, newest first; `status` keeps clients with an owner in that activation "
                  "status, `staff` those assigned to that staff member")
def list_clients(call):
    limit, cursor = parse_limit(call.query)
    status, staff = call.query.get("status"), call.query.get("staff")
    if status is not None and status not in ACTIVATION_STATUSES:
        raise ValidationFailed(details={"status": "must be one of: " + ", ".join(ACTIVATION_STATUSES)})
    if staff is not None and not (0 < len(staff) <= 64 and staff.replace("_", "").isalnum() and staff.isascii()):
        raise ValidationFailed(details={"staff": "is not a user id"})
    page, users = clients.list_page(call.deps, call.ctx, status, staff, limit, cursor)
    return present.page([_client(c, users, now(call)) for c in page.items], page.next_cursor)


@endpoint(bp, "/partners/{partner_id}/clients.csv", "GET", scope=scopes.partner("clients.export"),
          budget=Budget(reads=99, queries=99, note="the whole list: one Query and one BatchGetItem per 200 clients"),
          tag="clients", produces="text/csv",
          summary="The client list as CSV, one row per owner; too large for one response: 303 to a short-lived link")
def export_clients(call):
    body = exports.client_list_csv(call.deps, call.ctx)
    if len(body) > exports.MAX_RESPONSE_BYTES:
        return Response(body="", status_code=303, headers={"Location": exports.publish(call.deps, call.ctx, body)})
    return Response(body=body.decode("utf-8"), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8; header=present",
                             "Content-Disposition": 'attachment; filename="clients.csv"'})


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}", "GET", scope=scopes.partner("clients.view"),
          budget=Budget(reads=3, note="the row, then its active owners' last sign-in from their profiles"),
          tag="clients", summary="One client with its owners' activation status")
def get_client(call):
    client = clients.get(call.deps, call.ctx, call.params["client_id"])
    return _client(client, clients.logins(call.deps, [client]), when=now(call))


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}", "PATCH", scope=scopes.partner("clients.update"),
          budget=Budget(reads=4, transactions=1, note="the client row, its account, the assigned staff"),
          body=schemas.PATCH_CLIENT, tag="clients",
          summary="Change a client's name, plan, assigned staff or preliminary data, or add owners")
def patch_client(call):
    return _client(clients.update(call.deps, call.ctx, call.params["client_id"], call.body), when=now(call))


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}/invitations", "POST",
          scope=scopes.partner("clients.invite"), budget=PER_OWNER, body=schemas.INVITE_OWNERS, tag="clients",
          summary="Activation invitations (30 days) to the owners named, or to every owner not yet active")
def invite_owners(call):
    results = clients.invite_owners(call.deps, call.ctx, call.params["client_id"], call.body.get("emails"),
                                    call.body.get("form_id"))
    return {"results": results}


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}/invitations/{invitation_id}/resend", "POST",
          scope=scopes.partner("clients.invite"), body=schemas.RESEND,
          budget=Budget(reads=6, transactions=1, writes=1, note="the row, the account, the invitation, the row "
                        "again inside the retried transaction, and whether the owner has a login (their mail's wording)"),
          tag="clients", summary="Resend an owner's activation invitation from the client list")
def resend_owner_invitation(call):
    inv = clients.resend(call.deps, call.ctx, call.params["client_id"], call.params["invitation_id"],
                         call.body.get("confirm_address", False))
    return present.invitation(inv, now(call))


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}/guests", "POST", scope=scopes.partner("clients.invite"),
          budget=Budget(reads=3, transactions=1, writes=1, note="the client row and its account (whether the guest "
                        "has a login, for their mail's wording, rides on the authorization read)"),
          body=schemas.ADD_GUEST, status=201, tag="clients", looks_up="email",
          summary="Add a guest to a client account: they are invited at once")
def add_guest(call):
    return present.invitation(clients.add_guest(call.deps, call.ctx, call.params["client_id"], call.body), now(call))


@endpoint(bp, "/partners/{partner_id}/invitations/bulk", "POST", scope=scopes.partner("clients.invite"),
          budget=Budget(reads=51, transactions=1, note="the clients, 100 a BatchGetItem"), body=schemas.BULK, status=202,
          tag="clients", summary="Activation invitations to many clients at once: queued as a job")
def start_bulk(call):
    job = bulk.start(call.deps, call.ctx, call.body["client_ids"], call.body.get("form_id"))
    return _job(job)


def _job(job, results=None) -> dict:
    data = {"job_id": job.job_id, "partner_id": job.partner_id, "status": job.status, "total": job.total,
            "succeeded": job.succeeded, "failed": job.failed, "form_id": job.form_id,
            "created_at": present.ts(job.created_at)}
    if results is not None:
        data["results"] = [{"client_id": r.client_id, "email": r.email, "invitation_id": r.invitation_id,
                            "status": r.status, "error": r.error} for r in results.items]
        data["next_cursor"] = results.next_cursor
    return data


@endpoint(bp, "/partners/{partner_id}/jobs/{job_id}", "GET", scope=scopes.partner("clients.invite"),
          budget=Budget(reads=2, queries=1), tag="clients", query=PAGED,
          summary="A bulk job's progress and a page of its per-owner results")
def get_job(call):
    limit, cursor = parse_limit(call.query)
    job, results = bulk.read(call.deps, call.ctx, call.params["job_id"], limit, cursor)
    return _job(job, results)


# forms --------------------------------------------------------------------------------------------
def _form(f) -> dict:
    return {"form_id": f.form_id, "partner_id": f.partner_id, "title": f.title, "fields": f.fields,
            "created_at": present.ts(f.created_at)}


@endpoint(bp, "/partners/{partner_id}/forms", "POST", scope=scopes.partner("forms.manage"), budget=budgets.WRITE,
          body=schemas.CREATE_FORM, status=201, tag="forms", summary="Define a form to send with activation invitations")
def create_form(call):
    return _form(forms.create(call.deps, call.ctx, call.body["title"], call.body["fields"]))


@endpoint(bp, "/partners/{partner_id}/forms", "GET", scope=scopes.partner("forms.manage", "clients.invite"),
          budget=budgets.LIST, tag="forms", query=PAGED, summary="The firm's forms, newest first")
def list_forms(call):
    limit, cursor = parse_limit(call.query)
    page = forms.list_page(call.deps, call.ctx, limit, cursor)
    return present.page([_form(f) for f in page.items], page.next_cursor)


@endpoint(bp, "/accounts/{account_id}/forms/{form_id}", "GET", scope=scopes.account("account.view"),
          budget=budgets.READ, tag="forms", summary="A form the client's firm sent, to fill in")
def read_form(call):
    return _form(forms.for_account(call.deps, call.ctx, call.params["form_id"]))


def _response(r) -> dict:
    return {"form_id": r.form_id, "account_id": r.account_id, "answers": r.answers,
            "submitted_at": present.ts(r.submitted_at), "submitted_by": r.submitted_by}


@endpoint(bp, "/accounts/{account_id}/forms/{form_id}/response", "POST", scope=scopes.account("account.view"),
          budget=Budget(reads=2, transactions=1), body=schemas.FORM_RESPONSE, status=201, tag="forms",
          summary="Answer the form (an owner of the client account); answers are checked against it")
def answer_form(call):
    return _response(forms.respond(call.deps, call.ctx, call.params["form_id"], call.body["answers"]))


@endpoint(bp, "/partners/{partner_id}/clients/{client_id}/forms/{form_id}/response", "GET",
          scope=scopes.partner("clients.view"), budget=Budget(reads=3), tag="forms",
          summary="A client's answers to a form")
def read_form_response(call):
    return _response(forms.response_for_client(call.deps, call.ctx, call.params["client_id"],
                                               call.params["form_id"]))
