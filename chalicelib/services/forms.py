"""Forms: a partner defines them; an activated client owner fills one in; the partner reads the answers."""
from __future__ import annotations

from ..domain import forms as rules
from ..domain.errors import NotFound
from ..domain.forms import Form, FormResponse
from ..domain.model import Page
from . import audit
from .access import AccountAccess, PartnerAccess, deny
from .clients import get as get_client
from .deps import Deps


def create(deps: Deps, ctx: PartnerAccess, title: str, fields: list[dict]) -> Form:
    form = Form(deps.secrets.new_id("frm"), ctx.partner.partner_id, title, rules.check_definition(fields),
                deps.clock.now())
    tx = deps.store.transaction()
    deps.store.forms.add(tx, form)
    tx.commit()
    return form


def list_page(deps: Deps, ctx: PartnerAccess, limit: int, cursor: str | None) -> Page:
    return deps.store.forms.list(ctx.partner.partner_id, limit, cursor)


def for_account(deps: Deps, ctx: AccountAccess, form_id: str) -> Form:
    """A form of the firm that created this client account (404 for any other form or account)."""
    form = deps.store.forms.get(ctx.account.partner_id, form_id) if ctx.account.partner_id else None
    if form is None:
        raise NotFound()
    return form


def respond(deps: Deps, ctx: AccountAccess, form_id: str, answers: dict) -> FormResponse:
    """The client's owners fill the form in (the firm's advisors read it, they do not answer it)."""
    form = for_account(deps, ctx, form_id)
    if ctx.membership.role != "owner":
        raise deny(deps, ctx, "owner_info.update", "Only the client's owners fill in the firm's forms.",
                   form_id=form_id)
    response = FormResponse(form_id, ctx.account.account_id, form.partner_id, rules.check_answers(form, answers),
                            deps.clock.now(), {"user_id": ctx.user.user_id, "email": ctx.user.email})
    tx = deps.store.transaction()
    deps.store.forms.save_response(tx, response)
    deps.store.audit.add(tx, audit.account_event(deps, ctx.account.account_id, "form.submitted", ctx.actor, "form",
                                                 form_id))
    tx.commit()
    return response


def response_for_client(deps: Deps, ctx: PartnerAccess, client_id: str, form_id: str) -> FormResponse:
    get_client(deps, ctx, client_id)  # 404 for a client of another firm or not assigned to this staff member
    response = deps.store.forms.get_response(client_id, form_id)
    if response is None or response.partner_id != ctx.partner.partner_id:
        raise NotFound()
    return response
