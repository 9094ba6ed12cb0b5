"""A partner's forms, and each client account's response to one."""
from __future__ import annotations

from ...domain.forms import Form, FormResponse
from ...domain.model import Page
from . import keys, table
from .cursors import Cursors
from .models import FormItem, FormResponseItem
from .unit_of_work import UnitOfWork


def to_form(i: FormItem) -> Form:
    return Form(i.form_id, i.partner_id, i.title, list(i.fields or []), i.created_at)


def to_response(i: FormResponseItem) -> FormResponse:
    return FormResponse(i.form_id, i.account_id, i.partner_id, dict(i.answers or {}), i.submitted_at,
                        dict(i.submitted_by or {}))


class Forms:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, partner_id: str, form_id: str) -> Form | None:
        item = table.get(FormItem, *keys.form(partner_id, form_id))
        return to_form(item) if item else None

    def list(self, partner_id: str, limit: int, cursor: str | None) -> Page:
        scope = f"forms:{partner_id}"
        items, last = table.query_page(keys.partner_pk(partner_id), FormItem.sk.startswith(keys.FORM),
                                       newest_first=True, limit=limit, start_key=self._cursors.decode(scope, cursor))
        return Page([to_form(i) for i in items], self._cursors.encode(scope, last))

    def add(self, tx: UnitOfWork, form: Form) -> None:
        tx.put("form.new", FormItem(*keys.form(form.partner_id, form.form_id), form_id=form.form_id,
                                    partner_id=form.partner_id, title=form.title, fields=form.fields,
                                    created_at=form.created_at), condition=FormItem.pk.does_not_exist())

    def get_response(self, account_id: str, form_id: str) -> FormResponse | None:
        item = table.get(FormResponseItem, *keys.form_response(account_id, form_id))
        return to_response(item) if item else None

    def save_response(self, tx: UnitOfWork, response: FormResponse) -> None:
        """The client's answers (a later submission replaces an earlier one)."""
        tx.put("form.response", FormResponseItem(
            *keys.form_response(response.account_id, response.form_id), form_id=response.form_id,
            account_id=response.account_id, partner_id=response.partner_id, answers=response.answers,
            submitted_at=response.submitted_at, submitted_by=response.submitted_by))
