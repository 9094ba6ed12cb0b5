"""Accounts through the API: create, read, change by field group, close, and the audit trail they leave."""
from __future__ import annotations

import re

import pytest

from chalicelib.domain.permissions import ACCOUNT_GRANTS
from tests.api import support
from tests.api.support import (MEMBERS, assert_error, audit_items, build_team, signed_up_member, unique_email,
                               user_id_of)

# One moto stack for the module; every test makes its own users and accounts.
stack, api = support.stack, support.api

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# API.md: each PATCH field group and the permission it needs (`name` needs business_info.update).
GROUP_PERMISSION = {
    "name": "business_info.update",
    "owner_info": "owner_info.update",
    "business_info": "business_info.update",
    "account_info": "account_info.update",
    "logo_url": "settings.logo.update",
}


def group_change(group: str, n: int) -> dict:
    """A valid PATCH body that changes one field group to values unique to `n`."""
    return {
        "name": {"name": f"Renamed {n}"},
        "owner_info": {"owner_info": {"first_name": f"Grace{n}", "last_name": "Hopper", "phone": f"+1555000{n:04d}"}},
        "business_info": {"business_info": {"business_name": f"Acme {n} Inc", "timezone": "Europe/Paris"}},
        "account_info": {"account_info": {"plan": "pro" if n % 2 else "starter"}},
        "logo_url": {"logo_url": f"https://cdn.example.com/logo-{n}.png"},
    }[group]



@pytest.fixture
def owner(api):
    """A new user who owns a new business account: (token, account_id, email)."""
    email = unique_email("owner")
    token, account_id = api.user_with_account(email, type_="business", name="Acme Ltd")
    return token, account_id, email


@pytest.fixture(scope="module")
def team(stack):
    """One account with a member of every column (shared: tests read it or change it and check their change)."""
    return build_team(stack)


def account_of(api, account_id, token) -> dict:
    r = api.get(f"/accounts/{account_id}", token=token)
    assert r.status_code == 200, r.json
    return r.json


def actions(events: list[dict]) -> list[str]:
    return [e["action"] for e in events]


# Create and read ---------------------------------------------------------------------------------------

def test_creating_an_account_answers_201_with_the_account_and_makes_the_caller_its_owner(api):
    # GIVEN a signed-in user
    email = unique_email()
    token = api.signup_verified(email, first="Ada", last="Lovelace")
    user_id = user_id_of(api, token)
    # WHEN they create a business account
    r = api.post("/accounts", {"name": "Analytical Engines", "type": "business"}, token=token)
    # THEN it is theirs, with every permission of an owner
    assert r.status_code == 201, r.json
    account = r.json
    assert account["name"] == "Analytical Engines" and account["type"] == "business"
    assert account["status"] == "active" and account["plan"] in ("starter", "pro")
    (shown,) = account["owners"]
    assert {k: shown[k] for k in ("user_id", "email", "first_name", "last_name")} == \
        {"user_id": user_id, "email": email, "first_name": "Ada", "last_name": "Lovelace"}
    assert account["my_role"] == "owner"
    assert set(account["my_permissions"]) == ACCOUNT_GRANTS["owner"]
    # AND /me lists it as their own
    mine = [a for a in api.get("/me", token=token).json["accounts"] if a["account_id"] == account["account_id"]]
    assert len(mine) == 1
    assert mine[0]["own"] is True and mine[0]["role"] == "owner" and mine[0]["name"] == "Analytical Engines"
    assert mine[0]["type"] == "business"


def test_get_account_has_the_shape_of_the_contract(api, owner):
    token, account_id, email = owner
    account = account_of(api, account_id, token)
    assert {"account_id", "name", "type", "plan", "status", "owners", "partner_id", "my_role",
            "my_permissions"} <= set(account)
    assert account["account_id"] == account_id and account["partner_id"] is None
    assert isinstance(account["my_permissions"], list) and all(isinstance(p, str) for p in account["my_permissions"])
    (only_owner,) = account["owners"]
    assert {"user_id", "email", "first_name", "last_name"} <= set(only_owner)
    assert only_owner["email"] == email
    assert TIMESTAMP.match(account.get("created_at") or "2000-01-01T00:00:00Z")


def test_a_shared_account_is_not_own_on_me(api, team):
    me = api.get("/me", token=team["tokens"]["collaborator"]).json
    (shared,) = [a for a in me["accounts"] if a["account_id"] == team["account_id"]]
    assert shared["own"] is False and shared["role"] == "collaborator"


@pytest.mark.parametrize("account_type", ["personal", "business"])
def test_each_account_type_a_user_may_create_is_kept(api, account_type):
    token = api.signup_verified(unique_email())
    r = api.post("/accounts", {"name": "Mine", "type": account_type}, token=token)
    assert r.status_code == 201 and r.json["type"] == account_type
    assert account_of(api, r.json["account_id"], token)["type"] == account_type


# Change by field group ---------------------------------------------------------------------------------

def test_the_owner_may_change_every_field_group_at_once_and_the_account_shows_it(api, owner):
    token, account_id, _ = owner
    # WHEN the owner changes every group in one request
    body = {"name": "Acme Holdings", "owner_info": {"first_name": "Grace", "last_name": "Hopper", "phone": "+15550100"},
            "business_info": {"business_name": "Acme Holdings plc", "address": "1 Main St", "timezone": "UTC"},
            "account_info": {"plan": "pro"}, "logo_url": "https://cdn.example.com/acme.png"}
    r = api.patch(f"/accounts/{account_id}", body, token=token)
    # THEN the reply and a later read show every change
    assert r.status_code == 200, r.json
    for account in (r.json, account_of(api, account_id, token)):
        assert account["name"] == "Acme Holdings" and account["plan"] == "pro"
        assert account["business_info"] == body["business_info"]
        assert account["logo_url"] == "https://cdn.example.com/acme.png"
        (shown,) = account["owners"]
        assert (shown["first_name"], shown["last_name"], shown.get("phone")) == ("Grace", "Hopper", "+15550100")


def test_changing_part_of_business_info_keeps_the_rest(api, owner):
    token, account_id, _ = owner
    api.patch(f"/accounts/{account_id}", {"business_info": {"business_name": "Acme", "timezone": "UTC"}}, token=token)
    r = api.patch(f"/accounts/{account_id}", {"business_info": {"address": "2 High St"}}, token=token)
    assert r.status_code == 200
    assert account_of(api, account_id, token)["business_info"] == {"business_name": "Acme", "timezone": "UTC",
                                                                   "address": "2 High St"}


def test_owner_info_changes_the_owners_own_profile_shown_in_owners_and_on_me(api, owner):
    token, account_id, email = owner
    r = api.patch(f"/accounts/{account_id}", {"owner_info": {"first_name": "Grace", "last_name": "Hopper"}},
                  token=token)
    assert r.status_code == 200
    (shown,) = account_of(api, account_id, token)["owners"]
    assert (shown["first_name"], shown["last_name"], shown["email"]) == ("Grace", "Hopper", email)
    user = api.get("/me", token=token).json["user"]
    assert (user["first_name"], user["last_name"], user["email"]) == ("Grace", "Hopper", email)


_GROUP_CASES = [(label, group) for label in MEMBERS for group in GROUP_PERMISSION]


@pytest.mark.parametrize("label, group", _GROUP_CASES, ids=[f"{m}-{g}" for m, g in _GROUP_CASES])
def test_a_member_may_change_a_field_group_exactly_when_the_matrix_grants_its_permission(api, team, label, group):
    # GIVEN a member of one column, and the account as it is
    account_id, token = team["account_id"], team["tokens"][label]
    allowed = GROUP_PERMISSION[group] in ACCOUNT_GRANTS[MEMBERS[label][2]]
    before = account_of(api, account_id, team["tokens"]["owner"])
    # WHEN they change one field group
    body = group_change(group, _GROUP_CASES.index((label, group)))
    r = api.patch(f"/accounts/{account_id}", body, token=token)
    after = account_of(api, account_id, team["tokens"]["owner"])
    # THEN it is written if the matrix allows it, and refused with nothing written otherwise
    if allowed:
        assert r.status_code == 200, r.json
        assert after != before
    else:
        assert_error(r, 403, "forbidden")
        assert after == before


def test_a_collaborator_changes_the_name_and_business_info(api, owner):
    token, account_id, _ = owner
    collaborator = signed_up_member(api, account_id, unique_email("collab"), "collaborator")
    r = api.patch(f"/accounts/{account_id}", {"name": "Collab Co", "business_info": {"timezone": "Asia/Tokyo"}},
                  token=collaborator)
    assert r.status_code == 200, r.json
    account = account_of(api, account_id, token)
    assert account["name"] == "Collab Co" and account["business_info"]["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize("forbidden", [{"owner_info": {"first_name": "Mallory"}}, {"account_info": {"plan": "pro"}}])
def test_a_collaborator_may_not_change_owner_or_account_info_and_nothing_is_written(api, owner, forbidden):
    token, account_id, _ = owner
    collaborator = signed_up_member(api, account_id, unique_email("collab"), "collaborator")
    before = account_of(api, account_id, token)
    assert_error(api.patch(f"/accounts/{account_id}", forbidden, token=collaborator), 403, "forbidden")
    assert account_of(api, account_id, token) == before
    assert "account.updated" not in actions(audit_items(api, account_id, token))


def test_a_request_mixing_an_allowed_and_a_forbidden_group_writes_nothing(api, owner):
    # GIVEN a collaborator, who may rename the account but not change its plan
    token, account_id, _ = owner
    collaborator = signed_up_member(api, account_id, unique_email("collab"), "collaborator")
    before = account_of(api, account_id, token)
    # WHEN they ask for both in one request
    r = api.patch(f"/accounts/{account_id}", {"name": "Sneaky", "account_info": {"plan": "pro"}}, token=collaborator)
    # THEN the whole request is refused, and the allowed part was not written either
    assert_error(r, 403, "forbidden")
    after = account_of(api, account_id, token)
    assert after == before and after["name"] == "Acme Ltd"


def test_an_authorized_user_may_update_the_logo_but_an_admin_may_not(api, owner):
    token, account_id, _ = owner
    authorized = signed_up_member(api, account_id, unique_email("au"), "authorized_user")
    admin = signed_up_member(api, account_id, unique_email("admin"), "admin")
    r = api.patch(f"/accounts/{account_id}", {"logo_url": "https://cdn.example.com/new.png"}, token=authorized)
    assert r.status_code == 200
    refused = api.patch(f"/accounts/{account_id}", {"logo_url": "https://cdn.example.com/evil.png"}, token=admin)
    assert_error(refused, 403, "forbidden")
    assert account_of(api, account_id, token)["logo_url"] == "https://cdn.example.com/new.png"


# Close -----------------------------------------------------------------------------------------------

def test_the_owner_closes_the_account_and_it_then_refuses_changes(api, owner):
    token, account_id, _ = owner
    # WHEN the owner closes the account
    r = api.delete(f"/accounts/{account_id}", token=token)
    assert r.status_code == 204 and not r.body
    # THEN it shows as closed, and changing or closing it again is an invalid state
    assert account_of(api, account_id, token)["status"] == "closed"
    assert_error(api.patch(f"/accounts/{account_id}", {"name": "Back"}, token=token), 409, "invalid_state")
    assert_error(api.delete(f"/accounts/{account_id}", token=token), 409, "invalid_state")
    assert account_of(api, account_id, token)["name"] == "Acme Ltd"


@pytest.mark.parametrize("label", [m for m in MEMBERS if m != "owner"])
def test_only_the_owner_may_close_the_account(api, team, label):
    assert_error(api.delete(f"/accounts/{team['account_id']}", token=team["tokens"][label]), 403, "forbidden")
    assert account_of(api, team["account_id"], team["tokens"]["owner"])["status"] == "active"


# Audit -------------------------------------------------------------------------------------------------

def test_every_change_leaves_an_audit_event_with_actor_target_and_time_newest_first(api, owner):
    token, account_id, email = owner
    user_id = user_id_of(api, token)
    # GIVEN an account that was created, changed twice and closed
    api.patch(f"/accounts/{account_id}", {"name": "Second name"}, token=token)
    api.patch(f"/accounts/{account_id}", {"account_info": {"plan": "pro"}}, token=token)
    api.delete(f"/accounts/{account_id}", token=token)
    # WHEN the owner reads its audit
    events = audit_items(api, account_id, token)
    # THEN every change is there, newest first, saying who did what to which account and when
    assert actions(events) == ["account.closed", "account.updated", "account.updated", "account.created"]
    for event in events:
        assert event["actor"]["user_id"] == user_id and event["actor"]["email"] == email
        assert event["target"] == {"type": "account", "id": account_id}
        assert TIMESTAMP.match(event["at"])
        assert event["event_id"]
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    assert len({e["event_id"] for e in events}) == len(events)


def test_the_first_page_of_the_audit_holds_the_newest_events(api, owner):
    token, account_id, _ = owner
    for n in range(3):
        api.patch(f"/accounts/{account_id}", {"name": f"Name {n}"}, token=token)
    page = api.get(f"/accounts/{account_id}/audit?limit=2", token=token)
    assert page.status_code == 200
    assert actions(page.json["items"]) == ["account.updated", "account.updated"]
    assert page.json["next_cursor"]
    everything = api.get(f"/accounts/{account_id}/audit?limit=200", token=token).json
    assert len(everything["items"]) == 4 and everything["next_cursor"] is None


def test_audit_pages_follow_next_cursor_to_the_end_without_gaps_or_repeats(api, owner):
    # GIVEN seven events
    token, account_id, _ = owner
    for n in range(6):
        api.patch(f"/accounts/{account_id}", {"name": f"Name {n}"}, token=token)
    everything = api.get(f"/accounts/{account_id}/audit?limit=200", token=token).json["items"]
    assert len(everything) == 7
    # WHEN they are read two at a time
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get(f"/accounts/{account_id}/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert r.status_code == 200, r.json
        assert len(r.json["items"]) <= 2
        seen += r.json["items"]
        pages += 1
        cursor = r.json["next_cursor"]
        if not cursor:
            break
        assert pages < 10
    # THEN the pages hold every event once, in the same order
    assert [e["event_id"] for e in seen] == [e["event_id"] for e in everything]


def test_a_refused_attempt_by_a_member_is_recorded_as_access_denied(api, owner):
    # GIVEN a collaborator
    token, account_id, _ = owner
    email = unique_email("collab")
    collaborator = signed_up_member(api, account_id, email, "collaborator")
    # WHEN they try to change the plan, which only the owner may do
    assert api.patch(f"/accounts/{account_id}", {"account_info": {"plan": "pro"}},
                     token=collaborator).status_code == 403
    # THEN the owner sees the refused attempt in the audit, with who tried
    newest = audit_items(api, account_id, token)[0]
    assert newest["action"] == "access.denied"
    assert newest["actor"] == {"user_id": user_id_of(api, collaborator), "email": email}
    assert newest["target"] == {"type": "account", "id": account_id}
    assert TIMESTAMP.match(newest["at"])


@pytest.mark.parametrize("method, path, body", [("PATCH", "", {"name": "Guest was here"}), ("DELETE", "", None),
                                                ("GET", "/audit", None)])
def test_a_member_refused_at_the_door_is_recorded_as_access_denied(api, owner, method, path, body):
    token, account_id, _ = owner
    guest_email = unique_email("guest")
    guest = signed_up_member(api, account_id, guest_email, "guest")
    r = api.call(method, f"/accounts/{account_id}{path}", body=body, token=guest)
    assert_error(r, 403, "forbidden")
    newest = audit_items(api, account_id, token)[0]
    assert newest["action"] == "access.denied" and newest["actor"]["email"] == guest_email


def test_a_strangers_404_is_not_recorded_in_the_accounts_audit(api, owner):
    # GIVEN an account and its audit as it is
    token, account_id, _ = owner
    before = audit_items(api, account_id, token)
    stranger = api.signup_verified(unique_email("stranger"))
    # WHEN a user with no membership tries to read, change and close it
    for method, path, body in [("GET", "", None), ("PATCH", "", {"name": "Mine"}), ("DELETE", "", None),
                               ("GET", "/audit", None), ("GET", "/members", None)]:
        assert_error(api.call(method, f"/accounts/{account_id}{path}", body=body, token=stranger), 404, "not_found")
    # THEN the account's audit has nothing new
    assert audit_items(api, account_id, token) == before


@pytest.mark.parametrize("label", list(MEMBERS))
def test_the_audit_is_readable_exactly_by_the_members_with_audit_view(api, team, label):
    r = api.get(f"/accounts/{team['account_id']}/audit", token=team["tokens"][label])
    if "audit.view" in ACCOUNT_GRANTS[MEMBERS[label][2]]:
        assert r.status_code == 200 and r.json["items"]
    else:
        assert_error(r, 403, "forbidden")


# Members list ------------------------------------------------------------------------------------------

def test_the_members_list_shows_every_member_with_role_status_and_times(api, team):
    r = api.get(f"/accounts/{team['account_id']}/members?limit=200", token=team["tokens"]["owner"])
    assert r.status_code == 200 and r.json["next_cursor"] is None
    by_user = {m["user_id"]: m for m in r.json["items"]}
    assert len(by_user) == len(r.json["items"]) == len(MEMBERS)
    for label, (role, status, _) in MEMBERS.items():
        member = by_user[team["user_ids"][label]]
        assert {"user_id", "email", "first_name", "last_name", "role", "status", "joined_at",
                "last_login_at"} <= set(member)
        assert (member["email"], member["role"], member["status"]) == (team["emails"][label], role, status)
        assert TIMESTAMP.match(member["joined_at"]) and TIMESTAMP.match(member["last_login_at"])


def test_the_members_list_pages_through_every_member_once(api, team):
    seen, cursor = [], None
    for _ in range(len(MEMBERS)):
        r = api.get(f"/accounts/{team['account_id']}/members?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                    token=team["tokens"]["owner"])
        assert r.status_code == 200, r.json
        assert len(r.json["items"]) <= 3
        seen += [m["user_id"] for m in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(team["user_ids"].values())


@pytest.mark.parametrize("label", list(MEMBERS))
def test_the_members_list_is_readable_exactly_by_the_members_with_members_view(api, team, label):
    r = api.get(f"/accounts/{team['account_id']}/members", token=team["tokens"][label])
    if "members.view" in ACCOUNT_GRANTS[MEMBERS[label][2]]:
        assert r.status_code == 200 and len(r.json["items"]) == len(MEMBERS)
    else:
        assert_error(r, 403, "forbidden")
