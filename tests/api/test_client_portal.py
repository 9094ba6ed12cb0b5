"""The client portal through the API: a firm, its staff and clients, activation, forms, guests, CSV, bounces."""
from __future__ import annotations

import csv
import io

import pytest

from tests.api import support
from tests.api.support import assert_error, unique_email, user_id_of
from tests.conftest import token_from

stack, api = support.stack, support.api
PASSWORD = "correct horse battery"


@pytest.fixture
def firm(api):
    """A partner firm: its admin, and a staff member who joined through a staff invitation."""
    admin_email = unique_email("admin")
    admin = api.signup_verified(admin_email)
    api.enrol_totp(admin)  # a partner role requires an authenticator app
    r = api.post("/partners", {"name": "Ledger & Co"}, token=admin)
    assert r.status_code == 201 and r.json["my_role"] == "partner_admin", r.json
    partner = r.json["partner_id"]
    staff_email = unique_email("staff")
    assert api.post(f"/partners/{partner}/staff/invitations", {"email": staff_email, "role": "staff"},
                    token=admin).status_code == 201
    joined = api.post(f"/invitations/{token_from(api.last_link(staff_email, '/i/'))}/activate",
                      {"password": PASSWORD, "first_name": "Sven", "last_name": "Staff"})
    assert joined.status_code == 201 and joined.json["partner_id"] == partner and joined.json["account_id"] is None
    staff = joined.json["access_token"]
    api.enrol_totp(staff)
    return {"id": partner, "admin": admin, "admin_email": admin_email, "staff": staff,
            "staff_id": user_id_of(api, staff), "admin_id": user_id_of(api, admin)}


def new_client(api, firm, owners=None, token=None, **extra) -> dict:
    owners = owners or [{"email": unique_email("owner"), "first_name": "Olive", "last_name": "Owner"}]
    body = {"name": "Acme Household", "plan": "pro", "owners": owners, **extra}
    r = api.post(f"/partners/{firm['id']}/clients", body, token=token or firm["admin"])
    assert r.status_code == 201, r.json
    return r.json


def statuses(client: dict) -> dict:
    return {o["email"]: o["activation_status"] for o in client["owners"]}


def activate(api, email, first="Olive") -> str:
    r = api.post(f"/invitations/{token_from(api.last_link(email, '/i/'))}/activate",
                 {"password": PASSWORD, "first_name": first, "last_name": "Owner"})
    assert r.status_code == 201, r.json
    return r.json["access_token"]


def test_the_firm_lists_its_staff_and_me_lists_the_firm(api, firm):
    staff = api.get(f"/partners/{firm['id']}/staff", token=firm["admin"]).json["items"]
    assert {(s["role"], s["first_name"]) for s in staff} >= {("staff", "Sven")}
    me = api.get("/me", token=firm["staff"]).json
    assert me["partners"] == [{"partner_id": firm["id"], "name": "Ledger & Co", "role": "staff"}]


def test_a_client_is_created_with_a_co_owner_group_and_nothing_is_sent(api, firm):
    owners = [{"email": unique_email("ann"), "first_name": "Ann", "last_name": "Co"},
              {"email": unique_email("bob"), "first_name": "Bob", "last_name": "Co"}]
    client = new_client(api, firm, owners, assigned_staff=[firm["staff_id"]], preliminary_data={"income": 52000})
    assert statuses(client) == {o["email"]: "not_invited" for o in owners}
    assert client["assigned_staff"] == [{"user_id": firm["staff_id"], "name": "Sven Staff"}]
    assert client["preliminary_data"] == {"income": 52000}
    assert all(api.mails_to(o["email"]) == [] for o in owners)
    # it is a `client` account of the firm, and the firm's audit has its own record of it
    account = api.get(f"/accounts/{client['client_id']}", token=firm["admin"]).json
    assert (account["type"], account["partner_id"], account["my_role"]) == ("client", firm["id"], "advisor")
    actions = [e["action"] for e in api.get(f"/partners/{firm['id']}/audit", token=firm["admin"]).json["items"]]
    assert "client.created" in actions


def test_staff_reach_only_the_clients_assigned_to_them(api, firm):
    mine = new_client(api, firm, assigned_staff=[firm["staff_id"]])
    theirs = new_client(api, firm)
    for path in (f"/partners/{firm['id']}/clients/{theirs['client_id']}", f"/accounts/{theirs['client_id']}"):
        assert_error(api.get(path, token=firm["staff"]), 404, "not_found")
    assert api.get(f"/accounts/{mine['client_id']}", token=firm["staff"]).json["my_role"] == "advisor"
    listed = [c["client_id"] for c in api.get(f"/partners/{firm['id']}/clients", token=firm["staff"]).json["items"]]
    assert mine["client_id"] in listed and theirs["client_id"] not in listed
    assert_error(api.get(f"/partners/{firm['id']}/clients?staff={firm['admin_id']}", token=firm["staff"]), 403,
                 "forbidden")


def test_a_staff_member_creating_a_client_is_assigned_to_it(api, firm):
    client = new_client(api, firm, token=firm["staff"])
    assert [s["user_id"] for s in client["assigned_staff"]] == [firm["staff_id"]]


def test_activation_invitations_go_to_every_owner_not_yet_active_and_the_list_follows(api, firm):
    owners = [{"email": unique_email("ann"), "first_name": "Ann"}, {"email": unique_email("bob"), "first_name": "Bob"}]
    client = new_client(api, firm, owners)
    path = f"/partners/{firm['id']}/clients/{client['client_id']}"

    sent = api.post(f"{path}/invitations", {}, token=firm["admin"])

    assert sent.status_code == 200
    assert {r["email"]: r["status"] for r in sent.json["results"]} == {o["email"]: "sent" for o in owners}
    again = api.post(f"{path}/invitations", {}, token=firm["admin"]).json["results"]
    assert {r["status"] for r in again} == {"already_pending"}
    row = api.get(path, token=firm["admin"]).json
    assert set(statuses(row).values()) == {"invited"} and all(o["invited_at"] for o in row["owners"])
    # one owner activates from the link: active, with the last sign-in
    activate(api, owners[0]["email"], "Ann")
    row = api.get(path, token=firm["admin"]).json
    assert statuses(row) == {owners[0]["email"]: "active", owners[1]["email"]: "invited"}
    assert next(o for o in row["owners"] if o["email"] == owners[0]["email"])["last_login_at"]
    third = api.post(f"{path}/invitations", {}, token=firm["admin"]).json["results"]
    assert [r["status"] for r in third] == ["already_pending"]
    # the list filters by status, newest first
    active = api.get(f"/partners/{firm['id']}/clients?status=active", token=firm["admin"]).json["items"]
    assert active[0]["client_id"] == client["client_id"]
    not_invited = api.get(f"/partners/{firm['id']}/clients?status=not_invited", token=firm["admin"]).json["items"]
    assert client["client_id"] not in [c["client_id"] for c in not_invited]
    # the co-owner is an owner of the account now
    account = api.get(f"/accounts/{client['client_id']}", token=firm["admin"]).json
    assert [o["email"] for o in account["owners"]] == [owners[0]["email"]]


def test_invitations_to_chosen_owners_and_an_unknown_one(api, firm):
    owners = [{"email": unique_email("ann")}, {"email": unique_email("bob")}]
    client = new_client(api, firm, owners)
    path = f"/partners/{firm['id']}/clients/{client['client_id']}/invitations"
    results = api.post(path, {"emails": [owners[1]["email"], "stranger@example.com"]}, token=firm["admin"]).json
    assert [(r["email"], r["status"]) for r in results["results"]] == [(owners[1]["email"], "sent"),
                                                                      ("stranger@example.com", "failed")]
    assert api.mails_to(owners[0]["email"]) == []


def test_advisor_actions_are_in_the_accounts_audit_with_the_firm_named(api, firm):
    client = new_client(api, firm)
    api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/invitations", {}, token=firm["admin"])
    events = api.get(f"/accounts/{client['client_id']}/audit", token=firm["admin"]).json["items"]
    created = next(e for e in events if e["action"] == "invitation.created")
    assert created["acting_for"] == {"partner_id": firm["id"]}
    assert created["actor"]["acting_for"] == {"partner_id": firm["id"]}


def test_a_guest_added_to_a_client_account_is_invited_at_once(api, firm):
    client = new_client(api, firm)
    guest = unique_email("guest")
    r = api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/guests", {"email": guest, "first_name": "G"},
                 token=firm["admin"])
    assert r.status_code == 201 and r.json["role"] == "guest" and r.json["account_id"] == client["client_id"]
    assert api.mails_to(guest)[0]["links"][0].startswith(support.BASE_URL + "/i/")


def test_a_client_changes_and_gains_a_co_owner(api, firm):
    client = new_client(api, firm)
    path = f"/partners/{firm['id']}/clients/{client['client_id']}"
    extra = unique_email("extra")
    r = api.patch(path, {"name": "Acme Family", "plan": "starter", "assigned_staff": [firm["staff_id"]],
                         "owners": [{"email": extra, "first_name": "Ex"}]}, token=firm["admin"])
    assert r.status_code == 200 and (r.json["name"], r.json["plan"]) == ("Acme Family", "starter")
    assert extra in statuses(r.json)
    assert api.get(f"/accounts/{client['client_id']}", token=firm["staff"]).status_code == 200
    assert_error(api.patch(path, {"assigned_staff": ["usr_nobody"]}, token=firm["admin"]), 400, "validation_error")


# forms -------------------------------------------------------------------------------------------------------

def test_a_form_goes_with_the_invitation_and_its_answers_are_checked_and_read_by_the_firm(api, firm):
    form = api.post(f"/partners/{firm['id']}/forms", {"title": "Onboarding", "fields": [
        {"key": "income", "label": "Yearly income", "type": "number", "required": True},
        {"key": "since", "label": "Client since", "type": "date"},
        {"key": "risk", "label": "Risk", "type": "select", "options": ["low", "high"], "required": True},
        {"key": "agree", "label": "I agree", "type": "checkbox", "required": True}]}, token=firm["admin"])
    assert form.status_code == 201, form.json
    form_id = form.json["form_id"]
    assert_error(api.post(f"/partners/{firm['id']}/forms", {"title": "x", "fields": [{"key": "k", "label": "K",
                 "type": "select"}]}, token=firm["admin"]), 400, "validation_error")
    email = unique_email("owner")
    client = new_client(api, firm, [{"email": email}])
    api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/invitations", {"form_id": form_id},
             token=firm["admin"])
    owner = activate(api, email)
    shown = api.get(f"/accounts/{client['client_id']}/forms/{form_id}", token=owner)
    assert shown.status_code == 200 and [f["key"] for f in shown.json["fields"]] == ["income", "since", "risk", "agree"]
    path = f"/accounts/{client['client_id']}/forms/{form_id}/response"
    bad = api.post(path, {"answers": {"income": "lots", "since": "2020-13-01", "risk": "medium", "extra": 1}},
                   token=owner)
    error = assert_error(bad, 400, "validation_error")
    assert set(error["details"]) == {"answers.income", "answers.since", "answers.risk", "answers.agree",
                                     "answers.extra"}
    good = api.post(path, {"answers": {"income": 52000, "risk": "low", "agree": True}}, token=owner)
    assert good.status_code == 201
    read = api.get(f"/partners/{firm['id']}/clients/{client['client_id']}/forms/{form_id}/response",
                   token=firm["admin"]).json
    assert read["answers"] == {"income": 52000, "risk": "low", "agree": True}
    assert read["submitted_by"]["email"] == email
    # the firm's advisors read the answers; they do not answer for the client
    assert_error(api.post(path, {"answers": {"income": 1, "risk": "low", "agree": True}}, token=firm["admin"]),
                 403, "forbidden")


# CSV ---------------------------------------------------------------------------------------------------------

def test_the_csv_has_a_row_per_owner_opens_in_python_and_runs_no_formula(api, firm):
    hostile = "=HYPERLINK(\"http://evil.example\",\"click\")"
    owners = [{"email": unique_email("ann"), "first_name": hostile, "last_name": "O'Hara, \"Jr\""},
              {"email": unique_email("bob"), "first_name": "Zoë", "last_name": "@sum(A1)"}]
    client = new_client(api, firm, owners, name="+Evil, \"Corp\"")
    r = api.get(f"/partners/{firm['id']}/clients.csv", token=firm["admin"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    text = r.body.decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    mine = [row for row in rows if row["client_id"] == client["client_id"]]
    assert [row["owner_email"] for row in mine] == [o["email"] for o in owners]
    assert list(rows[0]) == ["client_id", "client_name", "owner_email", "owner_name", "activation_status",
                             "invited_at", "last_login_at", "plan", "assigned_staff"]
    assert mine[0]["client_name"] == "'+Evil, \"Corp\""  # quoted as RFC 4180 asks, read back whole
    assert mine[0]["owner_name"].startswith("'=HYPERLINK")
    assert mine[1]["owner_name"] == "Zoë @sum(A1)"  # not at the start of the cell: nothing to neutralise
    assert mine[0]["activation_status"] == "not_invited" and mine[0]["plan"] == "pro"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


def test_a_csv_too_large_for_a_response_is_a_short_lived_link_to_the_same_file(api, firm, monkeypatch):
    import urllib.parse

    import boto3

    from chalicelib.services import exports

    new_client(api, firm)
    monkeypatch.setattr(exports, "MAX_RESPONSE_BYTES", 10)
    r = api.get(f"/partners/{firm['id']}/clients.csv", token=firm["admin"])
    assert r.status_code == 303
    link = urllib.parse.urlparse(r.headers["Location"])
    query = urllib.parse.parse_qs(link.query)
    assert int(query.get("X-Amz-Expires", query.get("Expires", ["0"]))[0]) <= 300 or "Expires" in query
    bucket, key = link.netloc.split(".")[0], link.path.lstrip("/")
    if not key.startswith("exports/"):  # path-style address
        bucket, _, key = key.partition("/")
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body.decode("utf-8").startswith("client_id,client_name,owner_email")


# mail delivery events ---------------------------------------------------------------------------------------

def test_a_bounce_marks_the_invitation_and_the_owner_and_stops_mail_until_a_person_confirms(api, firm):
    email = unique_email("bouncy")
    client = new_client(api, firm, [{"email": email}])
    path = f"/partners/{firm['id']}/clients/{client['client_id']}"
    invitation_id = api.post(f"{path}/invitations", {}, token=firm["admin"]).json["results"][0]["invitation_id"]

    r = api.post("/_dev/mail-events", {"type": "bounce", "email": email.upper()})

    assert r.status_code == 200 and r.json["result"] == {"marked": 1, "unknown": 0}
    assert statuses(api.get(path, token=firm["admin"]).json) == {email: "bounced"}
    inv = api.get(f"/accounts/{client['client_id']}/invitations/{invitation_id}", token=firm["admin"]).json
    assert inv["delivery_status"] == "bounced"
    events = api.get(f"/accounts/{client['client_id']}/audit", token=firm["admin"]).json["items"]
    bounced = next(e for e in events if e["action"] == "invitation.bounced")
    assert bounced["actor"] == {"user_id": None, "email": None, "system": True}
    # a second identical event changes nothing
    assert api.post("/_dev/mail-events", {"type": "bounce", "email": email}).json["result"]["marked"] == 0
    # no more mail to that address until a person confirms it
    api.post("/_dev/clock", {"advance_seconds": 61})
    resend = f"{path}/invitations/{invitation_id}/resend"
    assert_error(api.post(resend, {}, token=firm["admin"]), 409, "address_suppressed")
    mails = len(api.mails_to(email))
    assert api.post(resend, {"confirm_address": True}, token=firm["admin"]).status_code == 200
    assert len(api.mails_to(email)) == mails + 1
    assert statuses(api.get(path, token=firm["admin"]).json) == {email: "invited"}


def test_a_complaint_marks_the_invitation_and_an_unknown_address_is_dropped(api, firm):
    email = unique_email("grumpy")
    client = new_client(api, firm, [{"email": email}])
    api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/invitations", {}, token=firm["admin"])
    assert api.post("/_dev/mail-events", {"type": "complaint", "email": email}).json["result"]["marked"] == 1
    unknown = api.post("/_dev/mail-events", {"type": "bounce", "email": unique_email("nobody")})
    assert unknown.status_code == 200 and unknown.json["result"] == {"marked": 0, "unknown": 1}


def test_a_stranger_cannot_confirm_an_address_that_complained_about_someone_elses_mail(api, firm):
    email = unique_email("complainer")
    client = new_client(api, firm, [{"email": email}])
    api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/invitations", {}, token=firm["admin"])
    assert api.post("/_dev/mail-events", {"type": "complaint", "email": email}).json["result"]["marked"] == 1
    mails = len(api.mails_to(email))
    stranger, account = api.user_with_account(unique_email("stranger"), name="Unrelated")
    invite = {"email": email, "role": "collaborator"}

    refused = assert_error(api.post(f"/accounts/{account}/invitations", invite, token=stranger), 409,
                           "address_suppressed")
    overridden = api.post(f"/accounts/{account}/invitations", {**invite, "confirm_address": True}, token=stranger)

    assert_error(overridden, 409, "address_suppressed")
    assert "spam" not in refused["message"] and "bounce" not in refused["message"]  # whose mail it was stays theirs
    assert len(api.mails_to(email)) == mails
    assert api.get(f"/accounts/{account}/invitations", token=stranger).json["items"] == []
    # the firm whose mail it was may confirm the address, once a person has checked it
    api.post("/_dev/clock", {"advance_seconds": 61})
    row = api.get(f"/partners/{firm['id']}/clients/{client['client_id']}", token=firm["admin"]).json
    resend = (f"/partners/{firm['id']}/clients/{client['client_id']}/invitations/"
              f"{row['owners'][0]['invitation_id']}/resend")
    assert api.post(resend, {"confirm_address": True}, token=firm["admin"]).status_code == 200
    assert len(api.mails_to(email)) == mails + 1


def test_one_co_owner_cannot_remove_another_but_each_may_leave(api, firm):
    a, b = unique_email("coa"), unique_email("cob")
    client = new_client(api, firm, [{"email": a}, {"email": b}])
    api.post(f"/partners/{firm['id']}/clients/{client['client_id']}/invitations", {}, token=firm["admin"])
    first, second = activate(api, a), activate(api, b, first="Bea")
    account = f"/accounts/{client['client_id']}"
    second_id = user_id_of(api, second)

    refused = api.delete(f"{account}/members/{second_id}", token=first)

    assert_error(refused, 403, "forbidden")
    assert api.get(account, token=second).status_code == 200  # still an owner
    assert {m["user_id"] for m in api.get(f"{account}/members", token=first).json["items"]
            if m["role"] == "owner"} == {second_id, user_id_of(api, first)}
    denied = next(e for e in api.get(f"{account}/audit", token=first).json["items"] if e["action"] == "access.denied")
    assert denied["details"]["permission"] == "members.remove"
    assert api.delete(f"{account}/members/me", token=second).status_code == 204  # leaving stays open to each
    assert_error(api.delete(f"{account}/members/me", token=first), 409, "last_owner")
