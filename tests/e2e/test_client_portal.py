"""A firm's day over HTTP against the local stack, as `make run` serves it: staff, clients, a co-owner group,
a bulk job worked off by the stack's own queue worker, an activation with a form, a bounce, the CSV, a guest."""
from __future__ import annotations

import csv
import io
import time
import uuid

import pytest
import requests

from tests.totp import fresh_code

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
BULK_CLIENTS = 40


def _signup(stack, email):
    assert requests.post(f"{stack}/auth/signup", json={"email": email, "password": PASSWORD, "first_name": "Fay",
                                                       "last_name": "Firm"}).status_code == 202
    link = next(x for m in _mail(stack, email) for x in m["links"] if "/verify/" in x)
    assert requests.post(f"{stack}/auth/verify-email", json={"token": link.rsplit("/", 1)[1]}).status_code == 200
    r = requests.post(f"{stack}/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _mail(stack, email) -> list[dict]:
    return requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"]


def _invite_token(stack, email) -> str:
    links = [x for m in _mail(stack, email) for x in m["links"] if "/i/" in x]
    assert links, f"no invitation mailed to {email}"
    return links[0].rsplit("/", 1)[1]


def _activate(stack, email, first) -> dict:
    r = requests.post(f"{stack}/invitations/{_invite_token(stack, email)}/activate",
                      json={"password": PASSWORD, "first_name": first, "last_name": "Person"})
    assert r.status_code == 201, r.text
    return r.json()


def _add_app(stack, headers) -> None:
    """The firm's people sign in with an authenticator app: without one, the firm refuses them."""
    secret = requests.post(f"{stack}/me/mfa/totp", headers=headers).json()["secret"]
    r = requests.post(f"{stack}/me/mfa/totp/verify", json={"code": fresh_code(secret)}, headers=headers)
    assert r.status_code == 200, r.text


def _owner_status(client: dict) -> dict:
    return {o["email"]: o["activation_status"] for o in client["owners"]}


def test_a_firm_onboards_its_clients_over_http(stack):
    tag = uuid.uuid4().hex[:8]
    admin = _signup(stack, f"fay-{tag}@firm.example")
    partner = requests.post(f"{stack}/partners", json={"name": "Ledger & Sons"}, headers=admin).json()
    _add_app(stack, admin)
    firm = f"{stack}/partners/{partner['partner_id']}"

    # a staff member is invited and activates through the link
    staff_email = f"sven-{tag}@firm.example"
    assert requests.post(f"{firm}/staff/invitations", json={"email": staff_email, "role": "staff"},
                         headers=admin).status_code == 201
    joined = _activate(stack, staff_email, "Sven")
    staff = {"Authorization": f"Bearer {joined['access_token']}"}
    _add_app(stack, staff)
    staff_id = requests.get(f"{stack}/me", headers=staff).json()["user"]["user_id"]
    assert requests.get(f"{stack}/me", headers=staff).json()["partners"][0]["role"] == "staff"

    # clients are created; nothing is sent
    form = requests.post(f"{firm}/forms", headers=admin, json={"title": "Welcome", "fields": [
        {"key": "income", "label": "Yearly income", "type": "number", "required": True}]}).json()
    group = [f"ann-{tag}@home.example", f"bo-{tag}@home.example"]
    household = requests.post(f"{firm}/clients", headers=admin, json={
        "name": "=Household", "plan": "pro", "assigned_staff": [staff_id],
        "owners": [{"email": e, "first_name": e[:3], "last_name": "Home"} for e in group]}).json()
    solo = requests.post(f"{firm}/clients", headers=admin, json={
        "name": "Solo", "plan": "starter", "owners": [{"email": f"sol-{tag}@home.example"}]}).json()
    bulk = [requests.post(f"{firm}/clients", headers=admin, json={
        "name": f"Bulk {n}", "plan": "starter", "owners": [{"email": f"b{n}-{tag}@home.example"}]}).json()
        for n in range(BULK_CLIENTS)]
    assert all(_mail(stack, e) == [] for e in group)
    assert set(_owner_status(household).values()) == {"not_invited"}

    # staff see their assigned client and are refused the others
    assert requests.get(f"{firm}/clients/{household['client_id']}", headers=staff).status_code == 200
    refused = requests.get(f"{firm}/clients/{solo['client_id']}", headers=staff)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"  # as for a stranger
    assert requests.get(f"{stack}/accounts/{solo['client_id']}", headers=staff).status_code == 404

    # the co-owner group is invited together, with the form
    r = requests.post(f"{firm}/clients/{household['client_id']}/invitations", json={"form_id": form["form_id"]},
                      headers=staff)
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"sent"}, r.text
    listed = requests.get(f"{firm}/clients", params={"status": "invited"}, headers=admin).json()["items"]
    assert household["client_id"] in {c["client_id"] for c in listed}

    # the bulk job is worked off by the stack itself; its progress is watched to done
    job = requests.post(f"{firm}/invitations/bulk", json={"client_ids": [c["client_id"] for c in bulk]},
                        headers=admin)
    assert job.status_code == 202 and job.json()["total"] == BULK_CLIENTS, job.text
    deadline, state = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        state = requests.get(f"{firm}/jobs/{job.json()['job_id']}", headers=admin).json()
        if state["status"] == "done":
            break
        time.sleep(0.5)
    assert state["status"] == "done" and (state["succeeded"], state["failed"]) == (BULK_CLIENTS, 0), state
    assert all(len(_mail(stack, c["owners"][0]["email"])) == 1 for c in bulk)

    # one owner follows the link, activates and answers the form; the list shows them active with a login
    owner = {"Authorization": f"Bearer {_activate(stack, group[0], 'Ann')['access_token']}"}
    assert requests.post(f"{stack}/auth/login", json={"email": group[0], "password": PASSWORD}).status_code == 200
    path = f"{stack}/accounts/{household['client_id']}/forms/{form['form_id']}"
    assert requests.post(f"{path}/response", json={"answers": {"income": "lots"}}, headers=owner).status_code == 400
    assert requests.post(f"{path}/response", json={"answers": {"income": 61000}}, headers=owner).status_code == 201
    answers = requests.get(f"{firm}/clients/{household['client_id']}/forms/{form['form_id']}/response",
                           headers=staff).json()
    assert answers["answers"] == {"income": 61000} and answers["submitted_by"]["email"] == group[0]
    row = requests.get(f"{firm}/clients/{household['client_id']}", headers=admin).json()
    assert _owner_status(row) == {group[0]: "active", group[1]: "invited"}
    ann = next(o for o in row["owners"] if o["email"] == group[0])
    assert ann["last_login_at"] and ann["invited_at"]

    # a bounced address shows as bounced
    bounced = bulk[0]["owners"][0]["email"]
    assert requests.post(f"{stack}/_dev/mail-events", json={"type": "bounce", "email": bounced}).status_code == 200
    listed = requests.get(f"{firm}/clients", params={"status": "bounced"}, headers=admin).json()["items"]
    assert [c["client_id"] for c in listed] == [bulk[0]["client_id"]]

    # a guest is invited at once
    guest = f"gus-{tag}@guest.example"
    assert requests.post(f"{firm}/clients/{solo['client_id']}/guests", json={"email": guest, "first_name": "Gus"},
                         headers=admin).status_code == 201
    assert _invite_token(stack, guest)

    # the CSV opens in Python's csv and runs no formula in a spreadsheet
    r = requests.get(f"{firm}/clients.csv", headers=admin)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert len(rows) == 2 + 1 + BULK_CLIENTS
    mine = {row["owner_email"]: row for row in rows}
    assert mine[group[0]]["activation_status"] == "active" and mine[group[0]]["last_login_at"]
    assert mine[bounced]["activation_status"] == "bounced"
    assert mine[group[0]]["client_name"] == "'=Household"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values())

    # the advisors' actions are in the client's audit with the firm named
    events = requests.get(f"{stack}/accounts/{household['client_id']}/audit", headers=owner).json()["items"]
    created = [e for e in events if e["action"] == "invitation.created"]
    assert len(created) == 2 and all(e["acting_for"] == {"partner_id": partner["partner_id"]} for e in created)
    assert {e["actor"]["email"] for e in created} == {staff_email}
