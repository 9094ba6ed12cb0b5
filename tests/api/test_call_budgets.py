"""Every route's DynamoDB calls, counted on moto by operation, held to the budget declared with the route.

Each route has a scenario: its setup is not counted, then one request on the route's usual path is.
A route without a scenario fails the inventory test below, so a new route cannot skip its budget.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

import app  # noqa: F401  (importing the app registers every route)
from chalicelib.api.http import ROUTES
from tests.api.support import api, stack, unique_email  # noqa: F401  (fixtures)
from tests.conftest import token_from
from tests.totp import fresh_code

PASSWORD = "correct horse battery"
_n = itertools.count(1)


@dataclass
class Request:
    method: str
    path: str
    body: dict | None = None
    token: str | None = None
    expect: int = 200
    raw: str | None = None
    headers: dict | None = None


class DynamoCalls:
    """Counts DynamoDB operations made through the app's one connection (copies of mail for the local
    mail page are left out: they exist in the local stage only)."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()

    def __call__(self, model, params, **_):
        if model.name == "PutItem" and str(params.get("Item", {}).get("pk", {}).get("S", "")).startswith("OUTBOX#"):
            return
        self.calls[model.name] += 1

    def install(self) -> None:
        from chalicelib.adapters.dynamo import connection

        connection.connection().client.meta.events.register("before-parameter-build.dynamodb", self,
                                                            unique_id="budget-counter")


SCENARIOS: dict = {}


def scenario(method: str, path: str):
    def register(fn):
        SCENARIOS[(method, path)] = fn
        return fn
    return register


# a small world --------------------------------------------------------------------------------
class World:
    def __init__(self, client_api):
        self.api = client_api
        self.owner_email = unique_email("budget-owner")
        self.owner, self.account = client_api.user_with_account(self.owner_email, type_="business", name="Budget Ltd")
        client_api.enrol_totp(self.owner)  # the firm's routes require an authenticator app of its admin
        partner = client_api.post("/partners", {"name": "Budget Advisers"}, token=self.owner)
        assert partner.status_code == 201, partner.json
        self.partner = partner.json["partner_id"]

    def person(self) -> tuple[str, str]:
        email = unique_email("budget")
        return email, self.api.signup_verified(email, password=PASSWORD)

    def person_with_app(self) -> tuple[str, str, str]:
        """(email, token, the authenticator app's secret)."""
        email, token = self.person()
        return email, token, self.api.enrol_totp(token)

    def invite(self, email: str | None = None, role: str = "collaborator") -> tuple[str, str, str]:
        email = email or unique_email("invitee")
        r = self.api.post(f"/accounts/{self.account}/invitations", {"email": email, "role": role}, token=self.owner)
        assert r.status_code == 201, r.json
        return email, r.json["invitation_id"], token_from(self.api.last_link(email, "/i/"))

    def staff_invite(self) -> tuple[str, str]:
        email = unique_email("staff")
        r = self.api.post(f"/partners/{self.partner}/staff/invitations", {"email": email, "role": "staff"},
                          token=self.owner)
        assert r.status_code == 201, r.json
        return email, r.json["invitation_id"]

    def member(self, role: str = "collaborator") -> tuple[str, str]:
        email, token = self.person()
        _, _, link = self.invite(email, role)
        assert self.api.post(f"/invitations/{link}/accept", token=token).status_code == 200
        me = self.api.get("/me", token=token).json["user"]["user_id"]
        return me, token

    def mailed_token(self, email: str, prefix: str) -> str:
        return token_from(self.api.last_link(email, prefix))


# identity -------------------------------------------------------------------------------------
@scenario("GET", "/health")
def _health(w): return Request("GET", "/health")


@scenario("GET", "/openapi.json")
def _openapi(w): return Request("GET", "/openapi.json")


@scenario("POST", "/auth/signup")
def _signup(w):
    return Request("POST", "/auth/signup", {"email": unique_email("new"), "password": PASSWORD, "first_name": "N",
                                            "last_name": "P"}, expect=202)


@scenario("POST", "/auth/verify-email")
def _verify(w):
    email = unique_email("verify")
    w.api.post("/auth/signup", {"email": email, "password": PASSWORD, "first_name": "V", "last_name": "E"})
    return Request("POST", "/auth/verify-email", {"token": w.mailed_token(email, "/verify/")})


@scenario("POST", "/auth/login")
def _login(w):
    email, _ = w.person()
    return Request("POST", "/auth/login", {"email": email, "password": PASSWORD})


@scenario("POST", "/auth/refresh")
def _refresh(w):
    email, _ = w.person()
    refresh = w.api.post("/auth/login", {"email": email, "password": PASSWORD}).json["refresh_token"]
    return Request("POST", "/auth/refresh", {"refresh_token": refresh})


@scenario("POST", "/auth/logout")
def _logout(w): return Request("POST", "/auth/logout", token=w.person()[1], expect=204)


@scenario("POST", "/auth/password/forgot")
def _forgot(w): return Request("POST", "/auth/password/forgot", {"email": w.person()[0]}, expect=202)


@scenario("POST", "/auth/password/reset")
def _reset(w):
    email, _ = w.person()
    w.api.post("/auth/password/forgot", {"email": email})
    return Request("POST", "/auth/password/reset", {"token": w.mailed_token(email, "/reset/"),
                                                    "password": "another good password"})


@scenario("GET", "/me")
def _me(w): return Request("GET", "/me", token=w.owner)


@scenario("GET", "/me/audit")
def _my_audit(w): return Request("GET", "/me/audit?limit=5", token=w.person_with_app()[1])


@scenario("POST", "/auth/login/totp")
def _login_totp(w):
    email, _, secret = w.person_with_app()
    pending = w.api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert pending.status_code == 202, pending.json
    return Request("POST", "/auth/login/totp", {"session": pending.json["session"], "code": fresh_code(secret)})


@scenario("POST", "/auth/login/recovery")
def _login_recovery(w):
    email, _, _ = w.person_with_app()
    return Request("POST", "/auth/login/recovery",
                   {"email": email, "password": PASSWORD, "recovery_code": w.api.recovery_codes[0]})


@scenario("POST", "/me/mfa/recovery-codes")
def _renew_recovery_codes(w):
    return Request("POST", "/me/mfa/recovery-codes", {"password": PASSWORD}, token=w.person_with_app()[1])


@scenario("POST", "/me/mfa/totp")
def _start_totp(w): return Request("POST", "/me/mfa/totp", token=w.person()[1])


@scenario("POST", "/me/mfa/totp/verify")
def _verify_totp(w):
    _, token = w.person()
    secret = w.api.post("/me/mfa/totp", token=token).json["secret"]
    return Request("POST", "/me/mfa/totp/verify", {"code": fresh_code(secret)}, token)


@scenario("DELETE", "/me/mfa/totp")
def _turn_off_totp(w): return Request("DELETE", "/me/mfa/totp", token=w.person_with_app()[1], expect=204)


# accounts and members -------------------------------------------------------------------------
@scenario("POST", "/accounts")
def _create_account(w): return Request("POST", "/accounts", {"name": "New", "type": "personal"}, w.owner, 201)


@scenario("GET", "/accounts/{account_id}")
def _get_account(w): return Request("GET", f"/accounts/{w.account}", token=w.owner)


@scenario("PATCH", "/accounts/{account_id}")
def _patch_account(w): return Request("PATCH", f"/accounts/{w.account}", {"name": f"Renamed {next(_n)}"}, w.owner)


@scenario("DELETE", "/accounts/{account_id}")
def _close_account(w):
    other = w.api.post("/accounts", {"name": "To close", "type": "personal"}, token=w.owner).json["account_id"]
    return Request("DELETE", f"/accounts/{other}", token=w.owner, expect=204)


@scenario("GET", "/accounts/{account_id}/permissions")
def _permissions(w): return Request("GET", f"/accounts/{w.account}/permissions", token=w.owner)


@scenario("GET", "/accounts/{account_id}/permissions/{action}")
def _permission(w): return Request("GET", f"/accounts/{w.account}/permissions/money.withdraw", token=w.owner)


@scenario("GET", "/accounts/{account_id}/members")
def _members(w):
    w.member()
    return Request("GET", f"/accounts/{w.account}/members?role=collaborator&limit=1", token=w.owner)


@scenario("DELETE", "/accounts/{account_id}/members/{user_id}")
def _remove_member(w):
    user_id, _ = w.member()
    return Request("DELETE", f"/accounts/{w.account}/members/{user_id}", token=w.owner, expect=204)


@scenario("GET", "/accounts/{account_id}/audit")
def _audit(w): return Request("GET", f"/accounts/{w.account}/audit?limit=5", token=w.owner)


# invitations ----------------------------------------------------------------------------------
@scenario("POST", "/accounts/{account_id}/invitations")
def _invite(w):
    return Request("POST", f"/accounts/{w.account}/invitations", {"email": unique_email("i"), "role": "guest"},
                   w.owner, 201)


@scenario("GET", "/accounts/{account_id}/invitations")
def _list_invitations(w):
    for _ in range(3):
        w.invite()
    return Request("GET", f"/accounts/{w.account}/invitations?status=revoked&limit=1", token=w.owner)


@scenario("GET", "/accounts/{account_id}/invitations/{invitation_id}")
def _get_invitation(w): return Request("GET", f"/accounts/{w.account}/invitations/{w.invite()[1]}", token=w.owner)


@scenario("POST", "/accounts/{account_id}/invitations/{invitation_id}/resend")
def _resend(w):
    _, inv, _ = w.invite()
    w.api.post("/_dev/clock", {"advance_seconds": 61})
    return Request("POST", f"/accounts/{w.account}/invitations/{inv}/resend", token=w.owner)


@scenario("DELETE", "/accounts/{account_id}/invitations/{invitation_id}")
def _revoke(w): return Request("DELETE", f"/accounts/{w.account}/invitations/{w.invite()[1]}", token=w.owner,
                               expect=204)


@scenario("GET", "/invitations/{token}")
def _read_link(w): return Request("GET", f"/invitations/{w.invite()[2]}")


@scenario("GET", "/i/{token}")
def _page(w): return Request("GET", f"/i/{w.invite()[2]}")


@scenario("POST", "/invitations/{token}/accept")
def _accept(w):
    email, token = w.person()
    return Request("POST", f"/invitations/{w.invite(email)[2]}/accept", token=token)


@scenario("POST", "/me/invitations/{invitation_id}/accept")
def _accept_mine(w):
    email, token = w.person()
    return Request("POST", f"/me/invitations/{w.invite(email)[1]}/accept", token=token)


@scenario("POST", "/me/invitations/{invitation_id}/decline")
def _decline_mine(w):
    email, token = w.person()
    return Request("POST", f"/me/invitations/{w.invite(email)[1]}/decline", token=token)


@scenario("POST", "/invitations/{token}/decline")
def _decline(w): return Request("POST", f"/invitations/{w.invite()[2]}/decline")


@scenario("POST", "/invitations/{token}/activate")
def _activate(w): return Request("POST", f"/invitations/{w.invite()[2]}/activate", {"password": PASSWORD}, expect=201)


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@scenario("POST", "/i/{token}/activate")
def _activate_form(w):
    return Request("POST", f"/i/{w.invite()[2]}/activate", raw="password=correct+horse+battery",
                   headers=FORM_HEADERS, expect=201)


@scenario("POST", "/i/{token}/signin")
def _signin_form(w):
    email, _ = w.person()
    return Request("POST", f"/i/{w.invite(email)[2]}/signin", raw="password=correct+horse+battery",
                   headers=FORM_HEADERS)


@scenario("POST", "/i/{token}/signin/totp")
def _signin_totp_form(w):
    email, _, secret = w.person_with_app()
    link = w.invite(email)[2]
    page = w.api.post(f"/i/{link}/signin", raw="password=correct+horse+battery", headers=FORM_HEADERS)
    session = re.search(r'name="session" value="([^"]+)"', page.body.decode()).group(1)
    return Request("POST", f"/i/{link}/signin/totp", raw=urlencode({"session": session, "code": fresh_code(secret)}),
                   headers=FORM_HEADERS)


@scenario("POST", "/i/{token}/signin/recovery")
def _signin_recovery_form(w):
    email, _, _ = w.person_with_app()
    link = w.invite(email)[2]
    return Request("POST", f"/i/{link}/signin/recovery",
                   raw=urlencode({"session": "x" * 20, "password": PASSWORD, "recovery_code": w.api.recovery_codes[0]}),
                   headers=FORM_HEADERS)


@scenario("POST", "/i/{token}/decline")
def _decline_form(w):
    return Request("POST", f"/i/{w.invite()[2]}/decline", raw="confirm=yes", headers=FORM_HEADERS)


@scenario("GET", "/i/{token}/forgot")
def _forgot_page(w):
    email, _ = w.person()
    return Request("GET", f"/i/{w.invite(email)[2]}/forgot")


@scenario("POST", "/i/{token}/forgot")
def _forgot_form(w):
    email, _ = w.person()
    return Request("POST", f"/i/{w.invite(email)[2]}/forgot", raw="", headers=FORM_HEADERS)


# pages ------------------------------------------------------------------------------------------
@scenario("GET", "/static/latchkey.css")
def _css(w): return Request("GET", "/static/latchkey.css")


@scenario("GET", "/static/invite.js")
def _js(w): return Request("GET", "/static/invite.js")


@scenario("GET", "/favicon.ico")
def _icon(w): return Request("GET", "/favicon.ico", expect=204)


def _verify_token(w) -> str:
    email = unique_email("page")
    w.api.post("/auth/signup", {"email": email, "password": PASSWORD, "first_name": "P", "last_name": "G"})
    return w.mailed_token(email, "/verify/")


@scenario("GET", "/verify/{token}")
def _verify_page(w): return Request("GET", f"/verify/{_verify_token(w)}")


@scenario("POST", "/verify/{token}")
def _verify_form(w):
    return Request("POST", f"/verify/{_verify_token(w)}", raw="", headers={"Content-Type":
                                                                          "application/x-www-form-urlencoded"})


def _reset_token(w) -> str:
    email, _ = w.person()
    w.api.post("/auth/password/forgot", {"email": email})
    return w.mailed_token(email, "/reset/")


@scenario("GET", "/reset/{token}")
def _reset_page(w): return Request("GET", f"/reset/{_reset_token(w)}")


@scenario("POST", "/reset/{token}")
def _reset_form(w):
    return Request("POST", f"/reset/{_reset_token(w)}", raw="password=another+good+password",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})


# local stage ------------------------------------------------------------------------------------
@scenario("GET", "/_dev/outbox")
def _outbox(w): return Request("GET", f"/_dev/outbox?to={w.owner_email}")


@scenario("GET", "/_dev/mail")
def _mail_page(w): return Request("GET", "/_dev/mail")


@scenario("POST", "/_dev/clock")
def _clock(w): return Request("POST", "/_dev/clock", {"advance_seconds": 1})


@scenario("DELETE", "/_dev/clock")
def _clock_back(w): return Request("DELETE", "/_dev/clock")


@scenario("POST", "/_dev/jobs/{name}")
def _job(w): return Request("POST", "/_dev/jobs/expire-invitations")


# partners -----------------------------------------------------------------------------------------
@scenario("POST", "/partners")
def _create_partner(w): return Request("POST", "/partners", {"name": "Another firm"}, w.owner, 201)


@scenario("GET", "/partners/{partner_id}")
def _get_partner(w): return Request("GET", f"/partners/{w.partner}", token=w.owner)


@scenario("GET", "/partners/{partner_id}/staff")
def _staff(w): return Request("GET", f"/partners/{w.partner}/staff", token=w.owner)


@scenario("DELETE", "/partners/{partner_id}/staff/{user_id}")
def _remove_staff(w):
    email, token = w.person()
    r = w.api.post(f"/partners/{w.partner}/staff/invitations", {"email": email, "role": "staff"}, token=w.owner)
    assert r.status_code == 201
    assert w.api.post(f"/invitations/{w.mailed_token(email, '/i/')}/accept", token=token).status_code == 200
    user_id = w.api.get("/me", token=token).json["user"]["user_id"]
    return Request("DELETE", f"/partners/{w.partner}/staff/{user_id}", token=w.owner, expect=204)


@scenario("POST", "/partners/{partner_id}/staff/invitations")
def _invite_staff(w):
    return Request("POST", f"/partners/{w.partner}/staff/invitations", {"email": unique_email("s"), "role": "staff"},
                   w.owner, 201)


@scenario("GET", "/partners/{partner_id}/staff/invitations")
def _staff_invitations(w):
    w.staff_invite()
    return Request("GET", f"/partners/{w.partner}/staff/invitations?status=pending&limit=1", token=w.owner)


@scenario("GET", "/partners/{partner_id}/staff/invitations/{invitation_id}")
def _staff_invitation(w):
    return Request("GET", f"/partners/{w.partner}/staff/invitations/{w.staff_invite()[1]}", token=w.owner)


@scenario("POST", "/partners/{partner_id}/staff/invitations/{invitation_id}/resend")
def _staff_resend(w):
    _, inv = w.staff_invite()
    w.api.post("/_dev/clock", {"advance_seconds": 61})
    return Request("POST", f"/partners/{w.partner}/staff/invitations/{inv}/resend", token=w.owner)


@scenario("DELETE", "/partners/{partner_id}/staff/invitations/{invitation_id}")
def _staff_revoke(w):
    return Request("DELETE", f"/partners/{w.partner}/staff/invitations/{w.staff_invite()[1]}", token=w.owner,
                   expect=204)


@scenario("GET", "/partners/{partner_id}/audit")
def _partner_audit(w): return Request("GET", f"/partners/{w.partner}/audit", token=w.owner)


# authorized users ---------------------------------------------------------------------------------
APPLICATION = {"legal_first_name": "A", "legal_last_name": "B", "date_of_birth": "1980-01-01", "phone": "+15555550100",
               "title": "CFO", "address": {"line1": "1 Main", "city": "X", "region": "Y", "postal_code": "1",
                                           "country": "US"}}


def _applicant(w, submit: bool = False) -> tuple[str, str]:
    """A new account with an authorized user in application: (account_id, the applicant's token)."""
    email = unique_email("au")
    w.account_for_au = w.api.post("/accounts", {"name": "AU Ltd", "type": "business"}, token=w.owner).json["account_id"]
    r = w.api.post(f"/accounts/{w.account_for_au}/invitations", {"email": email, "role": "authorized_user"},
                   token=w.owner)
    assert r.status_code == 201, r.json
    token = w.api.post(f"/invitations/{w.mailed_token(email, '/i/')}/activate", {"password": PASSWORD}).json[
        "access_token"]
    if submit:
        w.api.call("PUT", f"/accounts/{w.account_for_au}/members/me/application", body=APPLICATION, token=token)
        assert w.api.post(f"/accounts/{w.account_for_au}/members/me/application/submit", token=token).status_code == 200
    return w.account_for_au, token


def _reviewer(w) -> str:
    if not getattr(w, "reviewer", None):
        w.reviewer = w.api.signup_verified("reviewer@latchkey.example", password=PASSWORD)
    return w.reviewer


@scenario("PATCH", "/accounts/{account_id}/members/{user_id}")
def _change_role(w):
    user_id, _ = w.member("admin")
    return Request("PATCH", f"/accounts/{w.account}/members/{user_id}", {"role": "authorized_user"}, w.owner)


@scenario("PUT", "/accounts/{account_id}/members/me/application")
def _save_application(w):
    account, token = _applicant(w)
    return Request("PUT", f"/accounts/{account}/members/me/application", APPLICATION, token)


@scenario("GET", "/accounts/{account_id}/members/me/application")
def _my_application(w):
    account, token = _applicant(w, submit=True)
    return Request("GET", f"/accounts/{account}/members/me/application", token=token)


@scenario("POST", "/accounts/{account_id}/members/me/application/submit")
def _submit_application(w):
    account, token = _applicant(w)
    w.api.call("PUT", f"/accounts/{account}/members/me/application", body=APPLICATION, token=token)
    return Request("POST", f"/accounts/{account}/members/me/application/submit", token=token)


@scenario("GET", "/accounts/{account_id}/members/{user_id}/application")
def _read_application(w):
    account, token = _applicant(w, submit=True)
    user_id = w.api.get("/me", token=token).json["user"]["user_id"]
    return Request("GET", f"/accounts/{account}/members/{user_id}/application", token=w.owner)


@scenario("GET", "/reviews/applications")
def _review_queue(w):
    _applicant(w, submit=True)
    return Request("GET", "/reviews/applications?limit=1", token=_reviewer(w))


def _submitted(w) -> str:
    account, token = _applicant(w, submit=True)
    return f"/reviews/applications/{account}/{w.api.get('/me', token=token).json['user']['user_id']}"


@scenario("GET", "/reviews/applications/{account_id}/{user_id}")
def _review_one(w): return Request("GET", _submitted(w), token=_reviewer(w))


@scenario("POST", "/reviews/applications/{account_id}/{user_id}/approve")
def _approve(w): return Request("POST", _submitted(w) + "/approve", token=_reviewer(w))


@scenario("POST", "/reviews/applications/{account_id}/{user_id}/reject")
def _reject(w): return Request("POST", _submitted(w) + "/reject", {"reason": "Does not match."}, _reviewer(w))


# the client portal -----------------------------------------------------------------------------------
def _client(w, owners: int = 1) -> str:
    body = {"name": "Budget client", "plan": "pro", "owners": [{"email": unique_email("own")} for _ in range(owners)]}
    r = w.api.post(f"/partners/{w.partner}/clients", body, token=w.owner)
    assert r.status_code == 201, r.json
    return r.json["client_id"]


def _form(w) -> str:
    r = w.api.post(f"/partners/{w.partner}/forms", {"title": "F", "fields": [
        {"key": "income", "label": "Income", "type": "number", "required": True}]}, token=w.owner)
    assert r.status_code == 201, r.json
    return r.json["form_id"]


def _active_owner(w) -> tuple[str, str, str]:
    """A client with a form sent and its owner activated: (client_id, form_id, the owner's token)."""
    email = unique_email("own")
    client = w.api.post(f"/partners/{w.partner}/clients", {"name": "Formed", "plan": "pro",
                                                           "owners": [{"email": email}]}, token=w.owner).json["client_id"]
    form = _form(w)
    w.api.post(f"/partners/{w.partner}/clients/{client}/invitations", {"form_id": form}, token=w.owner)
    token = w.api.post(f"/invitations/{w.mailed_token(email, '/i/')}/activate", {"password": PASSWORD}).json[
        "access_token"]
    return client, form, token


@scenario("POST", "/partners/{partner_id}/clients")
def _create_client(w):
    return Request("POST", f"/partners/{w.partner}/clients", {"name": "C", "plan": "starter",
                                                              "owners": [{"email": unique_email("o")}]}, w.owner, 201)


@scenario("GET", "/partners/{partner_id}/clients")
def _list_clients(w):
    _client(w)
    return Request("GET", f"/partners/{w.partner}/clients?status=declined&limit=1", token=w.owner)


@scenario("GET", "/partners/{partner_id}/clients.csv")
def _csv(w):
    _client(w)
    return Request("GET", f"/partners/{w.partner}/clients.csv", token=w.owner)


@scenario("GET", "/partners/{partner_id}/clients/{client_id}")
def _get_client(w): return Request("GET", f"/partners/{w.partner}/clients/{_client(w)}", token=w.owner)


@scenario("PATCH", "/partners/{partner_id}/clients/{client_id}")
def _patch_client(w):
    return Request("PATCH", f"/partners/{w.partner}/clients/{_client(w)}", {"name": "Renamed"}, w.owner)


@scenario("POST", "/partners/{partner_id}/clients/{client_id}/invitations")
def _invite_owners(w):
    return Request("POST", f"/partners/{w.partner}/clients/{_client(w, owners=2)}/invitations", {}, w.owner)


@scenario("POST", "/partners/{partner_id}/clients/{client_id}/invitations/{invitation_id}/resend")
def _resend_owner(w):
    client = _client(w)
    sent = w.api.post(f"/partners/{w.partner}/clients/{client}/invitations", {}, token=w.owner).json["results"][0]
    w.api.post("/_dev/clock", {"advance_seconds": 61})
    return Request("POST", f"/partners/{w.partner}/clients/{client}/invitations/{sent['invitation_id']}/resend", {},
                   w.owner)


@scenario("POST", "/partners/{partner_id}/clients/{client_id}/guests")
def _guest(w):
    return Request("POST", f"/partners/{w.partner}/clients/{_client(w)}/guests", {"email": unique_email("g")}, w.owner,
                   201)


@scenario("POST", "/partners/{partner_id}/invitations/bulk")
def _bulk(w):
    return Request("POST", f"/partners/{w.partner}/invitations/bulk", {"client_ids": [_client(w), _client(w)]},
                   w.owner, 202)


@scenario("GET", "/partners/{partner_id}/jobs/{job_id}")
def _job(w):
    job = w.api.post(f"/partners/{w.partner}/invitations/bulk", {"client_ids": [_client(w)]}, token=w.owner).json
    return Request("GET", f"/partners/{w.partner}/jobs/{job['job_id']}", token=w.owner)


@scenario("POST", "/partners/{partner_id}/forms")
def _create_form(w):
    return Request("POST", f"/partners/{w.partner}/forms", {"title": "T", "fields": [
        {"key": "k", "label": "K", "type": "text"}]}, w.owner, 201)


@scenario("GET", "/partners/{partner_id}/forms")
def _list_forms(w):
    _form(w)
    return Request("GET", f"/partners/{w.partner}/forms?limit=1", token=w.owner)


@scenario("GET", "/accounts/{account_id}/forms/{form_id}")
def _read_form(w):
    client, form, token = _active_owner(w)
    return Request("GET", f"/accounts/{client}/forms/{form}", token=token)


@scenario("POST", "/accounts/{account_id}/forms/{form_id}/response")
def _answer_form(w):
    client, form, token = _active_owner(w)
    return Request("POST", f"/accounts/{client}/forms/{form}/response", {"answers": {"income": 1}}, token, 201)


@scenario("GET", "/partners/{partner_id}/clients/{client_id}/forms/{form_id}/response")
def _read_answers(w):
    client, form, token = _active_owner(w)
    w.api.post(f"/accounts/{client}/forms/{form}/response", {"answers": {"income": 1}}, token=token)
    return Request("GET", f"/partners/{w.partner}/clients/{client}/forms/{form}/response", token=w.owner)


@scenario("POST", "/_dev/mail-events")
def _mail_event(w):
    email, _, _ = w.invite()
    return Request("POST", "/_dev/mail-events", {"type": "bounce", "email": email})


# the tests ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(stack):  # noqa: F811
    return World(stack)


def test_every_route_has_a_budget_scenario():
    declared = {(spec.method, spec.path) for spec in ROUTES}
    assert sorted(declared - set(SCENARIOS)) == [] and sorted(set(SCENARIOS) - declared) == []


def _counted(api, request: Request) -> Counter:  # noqa: F811
    """The DynamoDB calls of one request, by operation, after checking its status."""
    counter = DynamoCalls()
    counter.install()
    try:
        response = api.call(request.method, request.path, body=request.body, token=request.token, raw=request.raw,
                            headers=request.headers)
    finally:
        from chalicelib.adapters.dynamo import connection

        connection.connection().client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="budget-counter")
    assert response.status_code == request.expect, (response.status_code, response.body[:300])
    return counter.calls


@pytest.mark.parametrize("spec", ROUTES, ids=lambda s: f"{s.method} {s.path}")
def test_the_route_keeps_to_its_dynamodb_budget(api, world, spec):  # noqa: F811
    calls = _counted(api, SCENARIOS[(spec.method, spec.path)](world))
    assert spec.budget.allows(dict(calls)) == [], f"{dict(calls)} against {spec.budget}"
    if spec.scope.kind in ("account", "partner"):
        assert calls["BatchGetItem"] >= 1, "authorization reads account (or partner), role and profile at once"


def _login_asking_for_the_code(w):
    email, _, _ = w.person_with_app()
    return Request("POST", "/auth/login", {"email": email, "password": PASSWORD}, expect=202)


def _signin_form_asking_for_the_code(w):
    email, _, _ = w.person_with_app()
    return Request("POST", f"/i/{w.invite(email)[2]}/signin", raw="password=correct+horse+battery",
                   headers=FORM_HEADERS)


@pytest.mark.parametrize("path, scenario", [("/auth/login", _login_asking_for_the_code),
                                            ("/i/{token}/signin", _signin_form_asking_for_the_code)])
def test_a_sign_in_that_waits_for_the_authenticator_code_keeps_to_the_same_budget(api, world, path, scenario):  # noqa: F811
    spec = next(s for s in ROUTES if (s.method, s.path) == ("POST", path))
    calls = _counted(api, scenario(world))
    assert spec.budget.allows(dict(calls)) == [], f"{dict(calls)} against {spec.budget}"


def _count(client_api, request: Request) -> Counter:
    from chalicelib.adapters.dynamo import connection

    counter = DynamoCalls()
    counter.install()
    try:
        response = client_api.call(request.method, request.path, body=request.body, token=request.token)
    finally:
        connection.connection().client.meta.events.unregister("before-parameter-build.dynamodb",
                                                              unique_id="budget-counter")
    assert response.status_code == request.expect, (response.status_code, response.body[:300])
    return counter.calls


def test_inviting_someone_costs_at_most_three_dynamodb_calls(api, world):  # noqa: F811
    # authorization (which also says whether the invitee has a login, for their mail's wording), the transaction,
    # the send recorded
    calls = _count(api, _invite(world))
    assert sum(calls.values()) <= 3, dict(calls)
    assert calls["GetItem"] == 0, dict(calls)


def test_the_mail_still_knows_a_known_invitee_when_the_authorization_read_looked_them_up(api, world):  # noqa: F811
    email, _ = world.person()
    newcomer = unique_email("new")
    for who in (email, newcomer):
        assert _count(api, Request("POST", f"/accounts/{world.account}/invitations", {"email": who, "role": "guest"},
                                   token=world.owner, expect=201))["GetItem"] == 0
    known_mail, new_mail = api.mails_to(email)[0], api.mails_to(newcomer)[0]
    assert "Sign in to accept" in known_mail["text"] and "No Latchkey account yet?" not in known_mail["text"]
    assert "No Latchkey account yet?" in new_mail["text"]


def test_inviting_someone_with_a_login_and_a_newcomer_costs_the_same_calls(api, world):  # noqa: F811
    # the inviter's request does not tell them whether the address has a login
    email, _ = world.person()
    known = _count(api, Request("POST", f"/accounts/{world.account}/invitations", {"email": email, "role": "guest"},
                                token=world.owner, expect=201))
    newcomer = _count(api, Request("POST", f"/accounts/{world.account}/invitations",
                                   {"email": unique_email("new"), "role": "guest"}, token=world.owner, expect=201))
    assert known == newcomer


@pytest.mark.parametrize("status", [None, "pending", "accepted", "declined", "revoked", "expired"])
def test_an_invitation_list_reads_one_query_page_whatever_the_status(api, world, status):  # noqa: F811
    # GIVEN invitations none of which (or all of which) have the status asked for
    for _ in range(4):
        world.invite()
    query = f"?status={status}&limit=1" if status else "?limit=1"
    # WHEN the first page and the page after it are read
    first = _count(api, Request("GET", f"/accounts/{world.account}/invitations{query}", token=world.owner))
    page = api.get(f"/accounts/{world.account}/invitations{query}", token=world.owner).json
    # THEN each page is one Query, never a loop until `limit` matches are found
    assert first["Query"] == 1
    if page["next_cursor"]:
        after = _count(api, Request("GET", f"/accounts/{world.account}/invitations{query}&cursor={page['next_cursor']}",
                                    token=world.owner))
        assert after["Query"] == 1


@pytest.mark.parametrize("role", [None, "owner", "guest", "advisor", "authorized_user"])
def test_a_member_list_reads_one_query_page_whatever_the_role(api, world, role):  # noqa: F811
    world.member()
    query = f"?role={role}&limit=1" if role else "?limit=1"
    calls = _count(api, Request("GET", f"/accounts/{world.account}/members{query}", token=world.owner))
    assert calls["Query"] == 1
