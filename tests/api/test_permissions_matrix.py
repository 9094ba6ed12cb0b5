"""The role matrix, generated from its data: every column x every action, through the API a host app calls."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import app  # noqa: F401  (importing the app registers every route in ROUTES)
from chalicelib.api.http import ROUTES
from chalicelib.domain.permissions import (ACCOUNT_ACTIONS, ACCOUNT_COLUMNS, ACCOUNT_GRANTS, MFA_TOTP, PARTNER_ACTIONS,
                                           PARTNER_COLUMNS, PARTNER_GRANTS, partner_role_requires)
from tests.api import support
from tests.api.support import MEMBERS, assert_error, build_team, unique_email

PERMISSIONS_MD = Path(__file__).parents[3] / "shared" / "PERMISSIONS.md"
stack = support.stack  # one moto stack for the module

def test_every_column_of_the_matrix_is_tested():
    assert {column for _, _, column in MEMBERS.values()} == set(ACCOUNT_COLUMNS)


@pytest.fixture(scope="module")
def world(stack):
    """One account with one member per column, and a stranger who owns another account (built once)."""
    team = build_team(stack)
    stranger, other_account = stack.user_with_account(unique_email("stranger"), name="Elsewhere")
    return {"api": stack, "account_id": team["account_id"], "tokens": team["tokens"], "stranger": stranger,
            "other_account": other_account, "owner_id": team["user_ids"]["owner"]}


@pytest.mark.parametrize("action", ACCOUNT_ACTIONS)
@pytest.mark.parametrize("member", list(MEMBERS))
def test_a_member_is_told_whether_it_may_take_an_action_exactly_as_the_matrix_says(world, member, action):
    # GIVEN a member whose role and status put it in one column of the matrix
    expected = action in ACCOUNT_GRANTS[MEMBERS[member][2]]
    # WHEN the host application asks whether it may take the action
    r = world["api"].get(f"/accounts/{world['account_id']}/permissions/{action}", token=world["tokens"][member])
    # THEN the answer is the matrix cell
    assert r.status_code == 200, r.json
    assert r.json == {"action": action, "allowed": expected}


@pytest.mark.parametrize("member", list(MEMBERS))
def test_a_member_lists_exactly_the_permissions_of_its_column(world, member):
    role, status, column = MEMBERS[member]
    r = world["api"].get(f"/accounts/{world['account_id']}/permissions", token=world["tokens"][member])
    assert r.status_code == 200, r.json
    assert r.json["role"] == role and r.json["status"] == status
    assert len(r.json["permissions"]) == len(set(r.json["permissions"]))
    assert set(r.json["permissions"]) == ACCOUNT_GRANTS[column]


@pytest.mark.parametrize("member", list(MEMBERS))
def test_the_account_shows_the_callers_role_and_the_same_permissions(world, member):
    role, _, column = MEMBERS[member]
    r = world["api"].get(f"/accounts/{world['account_id']}", token=world["tokens"][member])
    assert r.status_code == 200, r.json
    assert r.json["my_role"] == role
    assert set(r.json["my_permissions"]) == ACCOUNT_GRANTS[column]


@pytest.mark.parametrize("action", ["money.steal", "MONEY.WITHDRAW", "money", "partner.view", "clients.create",
                                    "account.view.extra", "x" * 300])
def test_an_action_outside_the_account_matrix_is_a_validation_error(world, action):
    r = world["api"].get(f"/accounts/{world['account_id']}/permissions/{action}", token=world["tokens"]["owner"])
    error = assert_error(r, 400, "validation_error")
    assert "action" in error.get("details", {})


@pytest.mark.parametrize("token", [None, "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_without_a_valid_token_the_permission_check_is_401(world, token):
    r = world["api"].get(f"/accounts/{world['account_id']}/permissions/money.withdraw", token=token)
    assert_error(r, 401, "unauthenticated")


def _account_routes():
    return [spec for spec in ROUTES if spec.path.startswith("/accounts/{account_id}")]


def _concrete(path: str, account_id: str, user_id: str) -> str:
    values = {"account_id": account_id, "action": "account.view", "user_id": user_id}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "something_1"), path)


def test_there_are_account_routes_to_check():
    assert len(_account_routes()) >= 6


@pytest.mark.parametrize("spec", _account_routes(), ids=lambda s: f"{s.method} {s.path}")
def test_anonymous_gets_401_on_every_route_of_an_account(world, spec):
    path = _concrete(spec.path, world["account_id"], world["owner_id"])
    r = world["api"].call(spec.method, path, body={} if spec.body is not None else None)
    assert_error(r, 401, "unauthenticated")


@pytest.mark.parametrize("spec", _account_routes(), ids=lambda s: f"{s.method} {s.path}")
def test_a_member_of_another_account_gets_404_on_every_route_as_if_the_account_did_not_exist(world, spec):
    api = world["api"]
    # GIVEN a signed-in user who owns an account of their own but has no membership in this one
    path = _concrete(spec.path, world["account_id"], world["owner_id"])
    missing = _concrete(spec.path, "acc_00000000000000000000", world["owner_id"])
    body = {"name": "Mine now"} if spec.body is not None else None
    # WHEN they call a route of this account, and the same route of an account that does not exist
    r = api.call(spec.method, path, body=body, token=world["stranger"])
    absent = api.call(spec.method, missing, body=body, token=world["stranger"])
    # THEN both answers are the same 404: nothing tells them the account exists
    error = assert_error(r, 404, "not_found")
    assert absent.status_code == 404 and absent.json["error"] == error


def test_a_stranger_changed_nothing_and_the_owner_still_sees_the_account_as_it_was(world):
    r = world["api"].get(f"/accounts/{world['account_id']}", token=world["tokens"]["owner"])
    assert r.json["status"] == "active" and r.json["name"] == "Acme Ltd"


# The design document -------------------------------------------------------------------------------

_DOC_COLUMNS = {"AU": "authorized_user", "AU*": "authorized_user*"}


def _doc_table(text: str, heading: str) -> tuple[list[str], dict[str, list[str]]]:
    """The markdown table under `heading`: its column names and {action: cells}."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    header, body = cells[0], [c for c in cells[1:] if not set("".join(c)) <= set("- :")]
    columns = [_DOC_COLUMNS.get(c, c) for c in header[1:]]
    table: dict[str, list[str]] = {}
    for row in body:
        action = row[0].split()[0]
        assert action not in table, f"{action} is listed twice in PERMISSIONS.md"
        table[action] = row[1:]
    return columns, table


def _mismatches(columns, table, grants, actions) -> list[str]:
    problems = []
    if list(table) != list(actions):
        problems.append(f"actions differ: document {list(table)} vs data {list(actions)}")
    for action, cells in table.items():
        assert len(cells) == len(columns), f"row {action} has {len(cells)} cells for {len(columns)} columns"
        for column, cell in zip(columns, cells):
            assert cell in ("Y", "-"), f"cell {action}/{column} is {cell!r}"
            if (cell == "Y") != (action in grants.get(column, frozenset())):
                problems.append(f"{action} / {column}: document says {cell}")
    return problems


@pytest.fixture(scope="module")
def permissions_md() -> str:
    if not PERMISSIONS_MD.exists():
        pytest.skip(f"{PERMISSIONS_MD} is not beside this checkout")
    return PERMISSIONS_MD.read_text(encoding="utf-8")


def test_the_account_matrix_in_the_code_equals_the_one_in_permissions_md_cell_by_cell(permissions_md):
    columns, table = _doc_table(permissions_md, "## Account actions")
    assert columns == list(ACCOUNT_COLUMNS)
    assert _mismatches(columns, table, ACCOUNT_GRANTS, ACCOUNT_ACTIONS) == []


def test_the_partner_matrix_in_the_code_equals_the_one_in_permissions_md_cell_by_cell(permissions_md):
    columns, table = _doc_table(permissions_md, "## Partner actions")
    assert columns == list(PARTNER_COLUMNS)
    assert _mismatches(columns, table, PARTNER_GRANTS, PARTNER_ACTIONS) == []


def test_the_document_parser_notices_a_changed_cell(permissions_md):
    # a flipped cell in the document must be reported, or the two tests above prove nothing
    tampered = permissions_md.replace("| money.withdraw | Y | Y | - |", "| money.withdraw | Y | Y | Y |")
    assert tampered != permissions_md
    columns, table = _doc_table(tampered, "## Account actions")
    assert _mismatches(columns, table, ACCOUNT_GRANTS, ACCOUNT_ACTIONS) == \
        ["money.withdraw / authorized_user*: document says Y"]


# Every route, by its declared scope ------------------------------------------------------------------

def _scoped(kind: str):
    return [spec for spec in ROUTES if spec.scope.kind == kind]


def _refused(kind: str, columns: dict) -> list:
    """(column label, route) for every route of `kind` whose scope holds none of the column's actions."""
    return [pytest.param(label, spec, id=f"{label}-{spec.method} {spec.path}")
            for spec in _scoped(kind) for label, grants in columns.items() if not spec.scope.actions & grants]


@pytest.mark.parametrize("member, spec", _refused("account", {m: ACCOUNT_GRANTS[c] for m, (_, _, c) in MEMBERS.items()}))
def test_a_member_whose_column_holds_none_of_a_routes_actions_gets_403_whatever_the_body(world, member, spec):
    path = _concrete(spec.path, world["account_id"], world["owner_id"])
    r = world["api"].call(spec.method, path, raw="{not json" if spec.body is not None else None,
                          token=world["tokens"][member])
    assert_error(r, 403, "forbidden")


@pytest.fixture(scope="module")
def firm(world):
    """A partner firm with a partner admin and a staff member, and a stranger."""
    api = world["api"]
    admin = world["tokens"]["owner"]
    api.enrol_totp(admin)  # partner roles require an authenticator app (their refusals without one: below)
    partner_id = api.post("/partners", {"name": "Matrix Advisers"}, token=admin).json["partner_id"]
    staff_email = unique_email("staff")
    staff = api.signup_verified(staff_email)
    api.enrol_totp(staff)
    assert api.post(f"/partners/{partner_id}/staff/invitations", {"email": staff_email, "role": "staff"},
                    token=admin).status_code == 201
    link = api.last_link(staff_email, "/i/").rsplit("/", 1)[1]
    assert api.post(f"/invitations/{link}/accept", token=staff).status_code == 200
    return {"partner_id": partner_id, "tokens": {"partner_admin": admin, "staff": staff}}


@pytest.mark.parametrize("role, spec", _refused("partner", PARTNER_GRANTS))
def test_staff_whose_partner_role_holds_none_of_a_routes_actions_get_403(world, firm, role, spec):
    path = re.sub(r"{(\w+)}", lambda m: firm["partner_id"] if m.group(1) == "partner_id" else "something_1",
                  spec.path)
    r = world["api"].call(spec.method, path, raw="{not json" if spec.body is not None else None,
                          token=firm["tokens"][role])
    assert_error(r, 403, "forbidden")


@pytest.fixture(scope="module")
def without_app(world, firm):
    """One person per partner role of the firm, none with an authenticator app yet."""
    api, admin = world["api"], firm["tokens"]["partner_admin"]
    tokens = {}
    for role in PARTNER_COLUMNS:
        email = unique_email(f"no-app-{role}")
        tokens[role] = api.signup_verified(email)
        assert api.post(f"/partners/{firm['partner_id']}/staff/invitations", {"email": email, "role": role},
                        token=admin).status_code == 201
        link = api.last_link(email, "/i/").rsplit("/", 1)[1]
        assert api.post(f"/invitations/{link}/accept", token=tokens[role]).status_code == 200
    return tokens


@pytest.mark.parametrize("spec", _scoped("partner"), ids=lambda s: f"{s.method} {s.path}")
@pytest.mark.parametrize("role", PARTNER_COLUMNS)
def test_a_partner_role_that_requires_an_app_is_refused_without_one_on_every_partner_route(world, firm, without_app,
                                                                                           role, spec):
    path = re.sub(r"{(\w+)}", lambda m: firm["partner_id"] if m.group(1) == "partner_id" else "something_1",
                  spec.path)
    r = world["api"].call(spec.method, path, raw="{not json" if spec.body is not None else None,
                          token=without_app[role])
    if partner_role_requires(role, MFA_TOTP):
        assert "/me/mfa/totp" in assert_error(r, 403, "mfa_required")["message"]
    else:
        assert (r.json or {}).get("error", {}).get("code") != "mfa_required"


def test_some_partner_routes_are_refused_to_staff_and_none_to_partner_admins():
    assert _refused("partner", {"staff": PARTNER_GRANTS["staff"]})
    assert not _refused("partner", {"partner_admin": PARTNER_GRANTS["partner_admin"]})


@pytest.mark.parametrize("spec", _scoped("partner"), ids=lambda s: f"{s.method} {s.path}")
def test_a_stranger_gets_404_and_anonymous_401_on_every_partner_route(world, firm, spec):
    path = re.sub(r"{(\w+)}", lambda m: firm["partner_id"] if m.group(1) == "partner_id" else "something_1",
                  spec.path)
    body = {} if spec.body is not None else None
    assert_error(world["api"].call(spec.method, path, body=body, token=world["stranger"]), 404, "not_found")
    assert_error(world["api"].call(spec.method, path, body=body), 401, "unauthenticated")


@pytest.mark.parametrize("spec", _scoped("reviewer"), ids=lambda s: f"{s.method} {s.path}")
@pytest.mark.parametrize("member", ["owner", "authorized_user", "advisor"])
def test_nobody_but_a_platform_reviewer_passes_a_reviewer_route(world, member, spec):
    path = re.sub(r"{(\w+)}", lambda m: world["account_id"] if m.group(1) == "account_id" else "usr_x", spec.path)
    r = world["api"].call(spec.method, path, raw="{not json" if spec.body is not None else None,
                          token=world["tokens"][member])
    assert_error(r, 403, "forbidden")
