"""Every route declares who may call it, is documented in the OpenAPI document, and the contract's routes exist."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from openapi_spec_validator import validate

import app as app_module
from chalicelib.api.budgets import Budget
from chalicelib.api.http import ROUTES
from chalicelib.api.openapi import document
from chalicelib.domain import scopes
from chalicelib.domain.scopes import Scope

ROOT = Path(__file__).parents[2]
API_MD = Path(__file__).parents[3] / "shared" / "API.md"

# The routes of API.md that are built so far; each must be served, declared and documented.
# Add a route here when it is built.
CONTRACT_ROUTES_BUILT = [
    ("GET", "/health"), ("GET", "/openapi.json"),
    ("POST", "/auth/signup"), ("POST", "/auth/verify-email"), ("POST", "/auth/login"), ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"), ("POST", "/auth/password/forgot"), ("POST", "/auth/password/reset"),
    ("GET", "/me"),
    ("POST", "/accounts"), ("GET", "/accounts/{account_id}"), ("PATCH", "/accounts/{account_id}"),
    ("DELETE", "/accounts/{account_id}"), ("GET", "/accounts/{account_id}/permissions"),
    ("GET", "/accounts/{account_id}/permissions/{action}"), ("GET", "/accounts/{account_id}/members"),
    ("GET", "/accounts/{account_id}/audit"),
    ("GET", "/_dev/outbox"), ("GET", "/_dev/mail"), ("POST", "/_dev/clock"), ("DELETE", "/_dev/clock"),
    ("POST", "/_dev/jobs/{name}"),
    ("POST", "/accounts/{account_id}/invitations"), ("GET", "/accounts/{account_id}/invitations"),
    ("GET", "/accounts/{account_id}/invitations/{invitation_id}"),
    ("POST", "/accounts/{account_id}/invitations/{invitation_id}/resend"),
    ("DELETE", "/accounts/{account_id}/invitations/{invitation_id}"),
    ("DELETE", "/accounts/{account_id}/members/{user_id}"),
    ("GET", "/i/{token}"), ("GET", "/invitations/{token}"), ("POST", "/invitations/{token}/accept"),
    ("POST", "/invitations/{token}/decline"), ("POST", "/invitations/{token}/activate"),
    ("POST", "/partners"), ("GET", "/partners/{partner_id}"), ("POST", "/partners/{partner_id}/staff/invitations"),
    ("GET", "/partners/{partner_id}/staff"), ("DELETE", "/partners/{partner_id}/staff/{user_id}"),
    ("GET", "/partners/{partner_id}/audit"),
    ("PATCH", "/accounts/{account_id}/members/{user_id}"), ("PUT", "/accounts/{account_id}/members/me/application"),
    ("POST", "/accounts/{account_id}/members/me/application/submit"),
    ("GET", "/accounts/{account_id}/members/{user_id}/application"), ("GET", "/reviews/applications"),
    ("POST", "/reviews/applications/{account_id}/{user_id}/approve"),
    ("POST", "/reviews/applications/{account_id}/{user_id}/reject"),
    ("POST", "/partners/{partner_id}/clients"), ("GET", "/partners/{partner_id}/clients"),
    ("GET", "/partners/{partner_id}/clients/{client_id}"),
    ("POST", "/partners/{partner_id}/clients/{client_id}/invitations"),
    ("POST", "/partners/{partner_id}/clients/{client_id}/guests"), ("POST", "/partners/{partner_id}/invitations/bulk"),
    ("GET", "/partners/{partner_id}/jobs/{job_id}"), ("GET", "/partners/{partner_id}/clients.csv"),
    ("POST", "/partners/{partner_id}/forms"), ("GET", "/partners/{partner_id}/forms"),
    ("GET", "/accounts/{account_id}/forms/{form_id}"), ("POST", "/accounts/{account_id}/forms/{form_id}/response"),
    ("GET", "/partners/{partner_id}/clients/{client_id}/forms/{form_id}/response"), ("POST", "/_dev/mail-events"),
]


def served_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the Chalice app serves."""
    return sorted((method, path) for path, entries in app_module.app.routes.items() for method in entries)


def declared_routes() -> list[tuple[str, str]]:
    return sorted((spec.method, spec.path) for spec in ROUTES)


def test_the_app_serves_routes():
    assert len(served_routes()) >= len(CONTRACT_ROUTES_BUILT)


def test_every_served_route_has_exactly_one_declaration_and_every_declaration_is_served():
    counts = Counter(declared_routes())
    assert [route for route in served_routes() if counts[route] != 1] == []
    assert sorted(counts) == served_routes()


@pytest.mark.parametrize("spec", ROUTES, ids=lambda s: f"{s.method} {s.path}")
def test_every_route_declares_one_scope_and_a_dynamodb_budget(spec):
    assert isinstance(spec.scope, Scope), f"{spec.method} {spec.path}: {spec.scope!r}"
    assert isinstance(spec.budget, Budget), f"{spec.method} {spec.path} has no call budget"
    if spec.scope.kind == "account":
        # an account action is checked against the caller's membership of the account in the path
        assert "{account_id}" in spec.path, f"{spec.method} {spec.path} checks an account action without an account"
    if spec.scope.kind == "partner":
        assert "{partner_id}" in spec.path, f"{spec.method} {spec.path} checks a partner action without a partner"
    if spec.path.startswith("/_dev/"):
        assert spec.scope == scopes.LOCAL_ONLY


@pytest.mark.parametrize("kind, actions", [
    ("everyone", ()), ("account", ()), ("account", ("money.steal",)), ("account", ("partner.view",)),
    ("partner", ("money.withdraw",)), ("public", ("account.view",)), ("reviewer", ("account.view",)),
])
def test_a_scope_with_an_unknown_kind_or_action_cannot_be_declared(kind, actions):
    with pytest.raises(ValueError):
        Scope(kind, frozenset(actions))


def test_every_served_route_is_in_the_served_openapi_document(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json["paths"]
    missing = [(m, p) for m, p in served_routes() if m.lower() not in paths.get(p, {})]
    assert missing == []
    # and nothing is documented that is not served
    documented = sorted((m.upper(), p) for p, ops in paths.items() for m in ops)
    assert documented == served_routes()


def test_each_documented_operation_states_its_permission_and_whether_it_needs_a_token(api):
    paths = api.get("/openapi.json").json["paths"]
    for spec in ROUTES:
        op = paths[spec.path][spec.method.lower()]
        assert op["x-scope"] == spec.scope.kind, (spec.method, spec.path)
        assert op.get("x-permissions", []) == sorted(spec.scope.actions), (spec.method, spec.path)
        assert ("security" in op) == spec.scope.needs_token, (spec.method, spec.path)
        if spec.body is not None:
            assert op["requestBody"]["content"][spec.content_types[0]]["schema"] == spec.body


def test_the_served_document_is_valid_openapi_3_1(api):
    doc = api.get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_the_openapi_json_in_the_repository_is_the_generated_document(api):
    # regenerate with `make openapi` after changing a route
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == document()
    served = api.get("/openapi.json").json  # the local stage's: its own routes too
    assert served == document(local=True)
    assert {p: ops for p, ops in served["paths"].items() if not p.startswith("/_dev/")} == committed["paths"]


def test_the_deployed_document_has_no_local_routes_and_names_every_operation_readably():
    doc = document()
    assert not [p for p in doc["paths"] if p.startswith("/_dev/")]
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids)
    assert "createInvitation" in ids and "resendInvitation" in ids


def test_every_json_success_has_a_schema_and_every_error_the_envelope_with_its_codes():
    doc = document(local=True)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                content = (answer.get("content") or {}).get("application/json")
                if content is None:
                    continue
                assert content["schema"] != {"type": "object"}, (method, path, status)
                if int(status) >= 400:
                    assert content["schema"]["allOf"][0] == {"$ref": "#/components/schemas/Error"}
            if "429" in op["responses"]:
                assert "Retry-After" in op["responses"]["429"]["headers"]


def test_the_contract_check_of_the_tests_catches_a_body_that_breaks_the_schema():
    from types import SimpleNamespace

    from tests.conftest import check_against_contract

    broken = SimpleNamespace(status_code=200, json={"status": "fine"})  # /health answers {"status": "ok"}
    with pytest.raises(AssertionError):
        check_against_contract("GET", "/health", broken)
    undocumented = SimpleNamespace(status_code=418, json=None)
    with pytest.raises(AssertionError):
        check_against_contract("GET", "/health", undocumented)


def test_every_built_route_of_the_contract_is_served():
    served = set(served_routes())
    assert [route for route in CONTRACT_ROUTES_BUILT if route not in served] == []


def test_every_built_route_listed_here_is_in_api_md():
    if not API_MD.exists():
        pytest.skip(f"{API_MD} is not beside this checkout")
    text = API_MD.read_text(encoding="utf-8")
    listed = {(m, p.split("?")[0]) for m, p in
              re.findall(r"`(GET|POST|PUT|PATCH|DELETE)\s+(/[^`\s]*)", text)}
    assert [route for route in CONTRACT_ROUTES_BUILT if route not in listed] == []
