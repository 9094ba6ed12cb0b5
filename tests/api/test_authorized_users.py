"""Authorized users through the API: the two-slot limit, role changes, the application and its review."""
from __future__ import annotations

from datetime import date

import pytest

from tests.api import support
from tests.api.support import assert_error, signed_up_member, unique_email, user_id_of
from tests.conftest import token_from

stack, api = support.stack, support.api
REVIEWER = "reviewer@latchkey.example"
PASSWORD = "correct horse battery"


def details(**changes) -> dict:
    body = {"legal_first_name": "Alexandra", "legal_last_name": "Ng", "date_of_birth": "1990-04-01",
            "phone": "+447700900123", "title": "Finance lead",
            "address": {"line1": "1 High St", "city": "Leeds", "region": "West Yorkshire", "postal_code": "LS1 1AA",
                        "country": "GB"}}
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def reviewer(stack):
    return stack.signup_verified(REVIEWER)


@pytest.fixture
def business(api):
    """An owner of a business account: {"token", "account", "email"}."""
    email = unique_email("owner")
    token, account = api.user_with_account(email, type_="business", name="Acme Ltd")
    return {"token": token, "account": account, "email": email}


def invite_au(api, business, email=None):
    email = email or unique_email("au")
    return email, api.post(f"/accounts/{business['account']}/invitations",
                           {"email": email, "role": "authorized_user"}, token=business["token"])


def authorized_user(api, business) -> dict:
    """Invited as an authorized user, signed up and accepted: {"token", "user_id", "email"}."""
    email, r = invite_au(api, business)
    assert r.status_code == 201, r.json
    link = token_from(api.last_link(email, "/i/"))
    r = api.post(f"/invitations/{link}/activate", {"password": PASSWORD, "first_name": "Alex", "last_name": "Ng"})
    assert r.status_code == 201, r.json
    token = r.json["access_token"]
    return {"token": token, "user_id": user_id_of(api, token), "email": email}


def apply(api, business, au, **changes):
    path = f"/accounts/{business['account']}/members/me/application"
    r = api.call("PUT", path, body=details(**changes), token=au["token"])
    assert r.status_code == 200, r.json
    r = api.post(path + "/submit", token=au["token"])
    assert r.status_code == 200, r.json
    return r.json


def member_of(api, business, user_id) -> dict:
    items = api.get(f"/accounts/{business['account']}/members?limit=200", token=business["token"]).json["items"]
    return next(m for m in items if m["user_id"] == user_id)


def allowed(api, business, token, action) -> bool:
    return api.get(f"/accounts/{business['account']}/permissions/{action}", token=token).json["allowed"]


# the slots ----------------------------------------------------------------------------------------

def test_an_owner_invites_two_authorized_users_and_is_refused_a_third(api, business):
    for _ in range(2):
        assert invite_au(api, business)[1].status_code == 201
    assert_error(invite_au(api, business)[1], 409, "authorized_user_limit")


def test_an_accepted_authorized_user_has_admin_rights_until_approved(api, business):
    au = authorized_user(api, business)
    assert member_of(api, business, au["user_id"])["status"] == "application_required"
    assert allowed(api, business, au["token"], "members.view") and not allowed(api, business, au["token"], "money.withdraw")


# the application ----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, problem", [
    ("date_of_birth", "2999-01-01", "date_of_birth"),
    ("date_of_birth", "1990-02-30", "date_of_birth"),
    ("date_of_birth", str(date.today().replace(year=date.today().year - 17)), "date_of_birth"),
    ("phone", "07700900123", "phone"),
    ("phone", "+0123456789", "phone"),
    ("address", {"line1": "x", "city": "y", "region": "z", "postal_code": "1", "country": "XX"}, "address.country"),
    ("address", {"line1": "x", "city": "y", "region": "z", "postal_code": "1", "country": "gb"}, "address.country"),
])
def test_the_application_is_validated_field_by_field(api, business, field, value, problem):
    au = authorized_user(api, business)
    r = api.call("PUT", f"/accounts/{business['account']}/members/me/application", body=details(**{field: value}),
                 token=au["token"])
    error = assert_error(r, 400, "validation_error")
    assert problem in error["details"], error


def test_a_draft_is_saved_then_submitted_to_the_owner_and_the_reviewers(api, business, reviewer):
    au = authorized_user(api, business)
    path = f"/accounts/{business['account']}/members/me/application"
    draft = api.call("PUT", path, body=details(title="Controller"), token=au["token"])
    assert draft.status_code == 200 and draft.json["status"] == "draft" and draft.json["title"] == "Controller"
    assert api.call("PUT", path, body=details(), token=au["token"]).json["title"] == "Finance lead"  # still editable

    submitted = api.post(path + "/submit", token=au["token"])

    assert submitted.status_code == 200 and submitted.json["status"] == "in_review"
    assert member_of(api, business, au["user_id"])["status"] == "in_review"
    assert not allowed(api, business, au["token"], "money.withdraw")
    for to in (business["email"], REVIEWER):
        assert any("waiting for review" in m["subject"] for m in api.mails_to(to)), to
    assert_error(api.call("PUT", path, body=details(), token=au["token"]), 409, "invalid_state")
    assert_error(api.post(path + "/submit", token=au["token"]), 409, "invalid_state")


def test_submitting_without_a_draft_is_409(api, business):
    au = authorized_user(api, business)
    assert_error(api.post(f"/accounts/{business['account']}/members/me/application/submit", token=au["token"]),
                 409, "invalid_state")


def test_only_an_authorized_user_in_application_can_apply(api, business):
    for role in ("admin", "collaborator", "guest"):
        token = signed_up_member(api, business["account"], unique_email(role), role)
        r = api.call("PUT", f"/accounts/{business['account']}/members/me/application", body=details(), token=token)
        assert_error(r, 409, "invalid_state")
    r = api.call("PUT", f"/accounts/{business['account']}/members/me/application", body=details(),
                 token=business["token"])
    assert_error(r, 409, "invalid_state")


# the review ---------------------------------------------------------------------------------------

def test_a_reviewer_approves_and_the_authorized_user_gets_full_rights_at_once(api, business, reviewer):
    au = authorized_user(api, business)
    apply(api, business, au)
    queue = api.get("/reviews/applications?status=in_review&limit=200", token=reviewer).json["items"]
    entry = next(e for e in queue if e["user_id"] == au["user_id"])
    assert (entry["account_id"], entry["account_name"], entry["legal_last_name"]) == (business["account"],
                                                                                       "Acme Ltd", "Ng")

    r = api.post(f"/reviews/applications/{business['account']}/{au['user_id']}/approve", token=reviewer)

    assert r.status_code == 200 and r.json == {"account_id": business["account"], "user_id": au["user_id"],
                                               "status": "approved", "role": "authorized_user",
                                               "member_status": "active"}
    assert allowed(api, business, au["token"], "money.withdraw")
    assert member_of(api, business, au["user_id"])["status"] == "active"
    for to in (au["email"], business["email"]):
        assert any(m["subject"] == "An authorized-user application was approved on Latchkey" for m in api.mails_to(to))
    events = api.get(f"/accounts/{business['account']}/audit", token=business["token"]).json["items"]
    assert [e["action"] for e in events][:2] == ["application.approved", "application.submitted"]
    assert_error(api.post(f"/reviews/applications/{business['account']}/{au['user_id']}/approve", token=reviewer),
                 409, "invalid_state")


def test_a_rejection_makes_an_admin_frees_the_slot_deletes_the_details_and_mails_the_reason(api, business, reviewer):
    first, second = authorized_user(api, business), authorized_user(api, business)
    assert_error(invite_au(api, business)[1], 409, "authorized_user_limit")
    apply(api, business, second)

    r = api.post(f"/reviews/applications/{business['account']}/{second['user_id']}/reject",
                 {"reason": "The date of birth does not match the ID."}, token=reviewer)

    assert r.status_code == 200 and (r.json["role"], r.json["status"]) == ("admin", "rejected")
    assert member_of(api, business, second["user_id"])["role"] == "admin"
    mail = api.mails_to(second["email"])[0]
    assert "not approved" in mail["subject"] and "does not match the ID" in mail["text"]
    kept = api.get(f"/accounts/{business['account']}/members/{second['user_id']}/application",
                   token=business["token"]).json
    assert kept["status"] == "rejected" and kept["legal_first_name"] is None and kept["date_of_birth"] is None
    # the slot is free again
    assert invite_au(api, business)[1].status_code == 201
    assert first["user_id"]


def test_a_rejected_applicant_upgraded_again_starts_a_new_application(api, business, reviewer):
    au = authorized_user(api, business)
    apply(api, business, au)
    api.post(f"/reviews/applications/{business['account']}/{au['user_id']}/reject", {"reason": "No."}, token=reviewer)
    up = api.patch(f"/accounts/{business['account']}/members/{au['user_id']}", {"role": "authorized_user"},
                   token=business["token"])
    assert up.status_code == 200
    mine = api.get(f"/accounts/{business['account']}/members/me/application", token=au["token"]).json
    assert (mine["status"], mine["reason"]) == ("required", None)
    assert apply(api, business, au)["status"] == "in_review"


def test_an_admin_is_upgraded_into_a_free_slot_and_applies(api, business, reviewer):
    admin_email = unique_email("admin")
    admin = signed_up_member(api, business["account"], admin_email, "admin")
    admin_id = user_id_of(api, admin)
    r = api.patch(f"/accounts/{business['account']}/members/{admin_id}", {"role": "authorized_user"},
                  token=business["token"])
    assert r.status_code == 200 and (r.json["role"], r.json["status"]) == ("authorized_user", "application_required")
    assert any("role" in m["subject"] for m in api.mails_to(admin_email))
    apply(api, business, {"token": admin, "user_id": admin_id})
    assert member_of(api, business, admin_id)["status"] == "in_review"


def test_an_upgrade_needs_a_free_slot_and_a_downgrade_frees_it(api, business):
    one, two = authorized_user(api, business), authorized_user(api, business)
    admin = user_id_of(api, signed_up_member(api, business["account"], unique_email("admin"), "admin"))
    path = f"/accounts/{business['account']}/members"
    assert_error(api.patch(f"{path}/{admin}", {"role": "authorized_user"}, token=business["token"]), 409,
                 "authorized_user_limit")
    down = api.patch(f"{path}/{one['user_id']}", {"role": "admin"}, token=business["token"])
    assert down.status_code == 200 and (down.json["role"], down.json["status"]) == ("admin", "active")
    assert api.patch(f"{path}/{admin}", {"role": "authorized_user"}, token=business["token"]).status_code == 200
    assert two["user_id"]


@pytest.mark.parametrize("role, to", [("collaborator", "authorized_user"), ("guest", "admin"), ("admin", "owner"),
                                      ("admin", "admin"), ("admin", "collaborator")])
def test_any_other_role_change_is_409(api, business, role, to):
    member = user_id_of(api, signed_up_member(api, business["account"], unique_email(role), role))
    assert_error(api.patch(f"/accounts/{business['account']}/members/{member}", {"role": to},
                           token=business["token"]), 409, "invalid_state")


def test_an_authorized_user_cannot_change_roles_remove_the_other_or_the_owner(api, business, reviewer):
    one, two = authorized_user(api, business), authorized_user(api, business)
    apply(api, business, one)
    api.post(f"/reviews/applications/{business['account']}/{one['user_id']}/approve", token=reviewer)
    path = f"/accounts/{business['account']}/members"
    assert_error(api.patch(f"{path}/{two['user_id']}", {"role": "admin"}, token=one["token"]), 403, "forbidden")
    assert_error(api.delete(f"{path}/{two['user_id']}", token=one["token"]), 403, "forbidden")
    owner_id = user_id_of(api, business["token"])
    assert_error(api.delete(f"{path}/{owner_id}", token=one["token"]), 403, "forbidden")
    # the owner removes one; its application goes with it
    assert api.delete(f"{path}/{one['user_id']}", token=business["token"]).status_code == 204
    assert_error(api.get(f"{path}/{one['user_id']}/application", token=business["token"]), 404, "not_found")


def test_an_authorized_user_may_change_the_logo_but_never_the_owners_or_business_details(api, business, reviewer):
    au = authorized_user(api, business)
    apply(api, business, au)
    api.post(f"/reviews/applications/{business['account']}/{au['user_id']}/approve", token=reviewer)
    path = f"/accounts/{business['account']}"
    assert api.patch(path, {"logo_url": "https://cdn.example.com/logo.png"}, token=au["token"]).status_code == 200
    for body in ({"owner_info": {"phone": "+15550100"}}, {"business_info": {"timezone": "UTC"}},
                 {"logo_url": "https://cdn.example.com/other.png", "name": "Mine now"}):
        assert_error(api.patch(path, body, token=au["token"]), 403, "forbidden")
    account = api.get(path, token=business["token"]).json
    assert account["logo_url"] == "https://cdn.example.com/logo.png" and account["name"] == "Acme Ltd"


# who sees what ------------------------------------------------------------------------------------

def test_only_the_applicant_the_owner_and_reviewers_see_an_application(api, business, reviewer):
    au = authorized_user(api, business)
    apply(api, business, au)
    path = f"/accounts/{business['account']}/members/{au['user_id']}/application"
    assert api.get(path, token=business["token"]).json["date_of_birth"] == "1990-04-01"
    assert api.get(f"/accounts/{business['account']}/members/me/application", token=au["token"]).json["phone"]
    assert api.get(f"/reviews/applications/{business['account']}/{au['user_id']}", token=reviewer).json["title"]
    for role in ("admin", "collaborator", "guest"):
        token = signed_up_member(api, business["account"], unique_email(role), role)
        r = api.get(path, token=token)
        assert r.status_code == 403 and "1990" not in r.body.decode(), role
    # another authorized user of the same account does not see it either
    other = authorized_user(api, business)
    assert api.get(path, token=other["token"]).status_code == 403


def test_guests_admins_and_collaborators_never_see_the_owners_contact_or_business_details(api, business):
    api.patch(f"/accounts/{business['account']}", {"owner_info": {"phone": "+15550100"},
                                                    "business_info": {"business_name": "Acme Holdings"}},
              token=business["token"])
    for role, sees in (("guest", False), ("admin", False), ("collaborator", True), ("advisor", True)):
        token = signed_up_member(api, business["account"], unique_email(role), role)
        account = api.get(f"/accounts/{business['account']}", token=token).json
        shown = "business_info" in account and any("phone" in o for o in account["owners"])
        assert shown is sees, (role, account)
        assert ("+15550100" in str(account)) is sees
        check = api.get(f"/accounts/{business['account']}/permissions/settings.details.view", token=token).json
        assert check["allowed"] is sees


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/reviews/applications", None), ("GET", "/reviews/applications/acc_x/usr_x", None),
    ("POST", "/reviews/applications/acc_x/usr_x/approve", None),
    ("POST", "/reviews/applications/acc_x/usr_x/reject", {"reason": "no"}),
])
def test_anyone_but_a_reviewer_gets_403_on_every_review_route(api, business, method, path, body):
    assert_error(api.call(method, path, body=body, token=business["token"]), 403, "forbidden")
    assert_error(api.call(method, path, body=body), 401, "unauthenticated")


def test_the_review_queue_is_newest_first_and_pages(api, reviewer):
    submitted = []
    for _ in range(3):
        owner = {"email": unique_email("owner")}
        owner["token"], owner["account"] = api.user_with_account(owner["email"], type_="business", name="Queue Co")
        au = authorized_user(api, owner)
        apply(api, owner, au)
        submitted.append(au["user_id"])
        api.post("/_dev/clock", {"advance_seconds": 1})
    first = api.get("/reviews/applications?limit=2", token=reviewer).json
    rest = api.get(f"/reviews/applications?limit=2&cursor={first['next_cursor']}", token=reviewer).json
    seen = [e["user_id"] for e in first["items"] + rest["items"]]
    assert seen[:3] == submitted[::-1]


def test_the_applications_personal_details_never_reach_the_log(api, business, reviewer, capsys, monkeypatch):
    from chalicelib.services import mail

    def failing_send(*_args, **_kwargs):
        raise RuntimeError("mail is down")  # failures are logged: they must not carry the details either

    capsys.readouterr()
    au = authorized_user(api, business)
    secret = details(legal_first_name="Zephyrine", legal_last_name="Quillfeather", date_of_birth="1971-07-13",
                     phone="+447700900999", title="Treasurer")
    path = f"/accounts/{business['account']}/members/me/application"
    api.call("PUT", path, body={**secret, "date_of_birth": "2999-01-01"}, token=au["token"])  # refused, then saved
    api.call("PUT", path, body=secret, token=au["token"])
    monkeypatch.setattr(mail, "send", failing_send)
    api.post(path + "/submit", token=au["token"])
    api.post(f"/reviews/applications/{business['account']}/{au['user_id']}/reject", {"reason": "Mismatch"},
             token=reviewer)
    out = capsys.readouterr().out
    assert "could not send the application mail" in out  # the failures were logged...
    for value in ("Zephyrine", "Quillfeather", "1971-07-13", "+447700900999", "Treasurer", "2999-01-01"):
        assert value not in out  # ...without any of the details


# four eyes ----------------------------------------------------------------------------------------

def test_a_reviewer_cannot_decide_their_own_application(api, business, reviewer):
    assert api.post(f"/accounts/{business['account']}/invitations", {"email": REVIEWER, "role": "authorized_user"},
                    token=business["token"]).status_code == 201
    link = token_from(api.last_link(REVIEWER, "/i/"))
    assert api.post(f"/invitations/{link}/accept", token=reviewer).status_code == 200
    me = {"token": reviewer, "user_id": user_id_of(api, reviewer), "email": REVIEWER}
    apply(api, business, me)
    path = f"/reviews/applications/{business['account']}/{me['user_id']}"

    for decision, body in (("approve", None), ("reject", {"reason": "No."})):
        assert_error(api.post(f"{path}/{decision}", body, token=reviewer), 403, "forbidden")

    assert not allowed(api, business, reviewer, "money.withdraw")
    assert member_of(api, business, me["user_id"])["status"] == "in_review"
    assert "application.approved" not in [e["action"] for e in api.get(
        f"/accounts/{business['account']}/audit", token=business["token"]).json["items"]]
    assert api.delete(f"/accounts/{business['account']}/members/me", token=reviewer).status_code == 204


def test_a_reviewer_cannot_decide_an_application_to_an_account_they_own(api, reviewer):
    account = api.post("/accounts", {"name": "Reviewer's shop", "type": "business"}, token=reviewer).json["account_id"]
    shop = {"token": reviewer, "account": account, "email": REVIEWER}
    au = authorized_user(api, shop)
    apply(api, shop, au)

    r = api.post(f"/reviews/applications/{account}/{au['user_id']}/approve", token=reviewer)

    assert_error(r, 403, "forbidden")
    assert not allowed(api, shop, au["token"], "money.withdraw")
