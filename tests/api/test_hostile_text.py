"""Text that is not text: every body field of every route, from the OpenAPI document, filled with hostile Unicode
(lone surrogates, bidi overrides, zero-width and separator characters, controls, combining marks). No input
may give a 5xx; a lone surrogate or a control character in a name is a 400 (SECURITY.md 28, 35)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app  # noqa: F401  (importing the app registers every route)
from chalicelib.api.openapi import document
from tests.api import support
from tests.api.support import assert_error, unique_email

stack, api = support.stack, support.api

HOSTILE = ["\ud800", "\udfff", "\udbff\udc00"[::-1], "\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\ufeff",
           "\u2028", "\u2029", "\x85", "\x00", "\r", "\n", "\t", "\x1b", "e\u0301", "\u0301", "\U0001F600",
           "\ufffe", "\U000e0001", "\u00a0", "<", '"', "\\", "%00"]
TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(HOSTILE)), max_size=24).map("".join)


def strategy(schema: dict):
    """Values for a JSON Schema: mostly what it asks for, with hostile text wherever a string goes."""
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), TEXT)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: strategy(v) for k, v in props.items() if k in required},
                                     optional={k: strategy(v) for k, v in props.items() if k not in required})
    if kind == "integer":
        return st.one_of(st.integers(schema.get("minimum", -10), schema.get("maximum", 10)), st.integers(), TEXT)
    if kind == "string" and schema.get("format") == "email":
        return st.one_of(TEXT, st.tuples(TEXT, TEXT).map(lambda p: f"{p[0]}a@ex{p[1]}ample.com"),
                         st.builds(lambda t: f"ok{t}@example.com", TEXT))
    if kind == "string":
        return st.one_of(TEXT, st.builds(lambda a, b: f"Ada{a}Lovelace{b}", TEXT, TEXT))
    return st.one_of(TEXT, st.none(), st.integers())


# /auth/refresh is left to the HTTP fuzz (tests/fuzz): moto in process raises its own KeyError for a refresh
# token it never issued, where the user pool (and a moto server) answer "not authorized".
ROUTES = sorted((path, method) for path, ops in document()["paths"].items() for method, op in ops.items()
                if "application/json" in op.get("requestBody", {}).get("content", {})
                and not path.startswith("/_dev") and path != "/auth/refresh")


@pytest.fixture(scope="module")
def world(stack):  # noqa: F811
    """Ids and tokens for every path parameter, and the caller who gets past each route's permission check."""
    owner_email = unique_email("hostile-owner")
    owner, account = stack.user_with_account(owner_email, type_="business", name="Hostile Ltd")
    stack.enrol_totp(owner)  # the firm's routes require an authenticator app of its admin
    partner = stack.post("/partners", {"name": "Hostile Advisers"}, token=owner).json["partner_id"]
    invited = stack.post(f"/accounts/{account}/invitations", {"email": unique_email("h"), "role": "guest"},
                         token=owner).json["invitation_id"]
    reviewer = stack.signup_verified("reviewer@latchkey.example")
    user_id = stack.get("/me", token=owner).json["user"]["user_id"]
    return {"owner": owner, "reviewer": reviewer, "account_id": account, "partner_id": partner,
            "invitation_id": invited, "user_id": user_id}


def fill(path: str, world: dict, api) -> str:  # noqa: F811
    if "{token}" in path:  # a fresh link each time: activating uses one up
        email = unique_email("link")
        api.post(f"/accounts/{world['account_id']}/invitations", {"email": email, "role": "guest"},
                 token=world["owner"])
        path = path.replace("{token}", api.last_link(email, "/i/").rsplit("/", 1)[1])
    for name in ("account_id", "partner_id", "invitation_id", "user_id"):
        path = path.replace("{" + name + "}", world[name])
    return path


@pytest.mark.parametrize("path, method", ROUTES, ids=[f"{m.upper()} {p}" for p, m in ROUTES])
def test_no_body_of_hostile_text_gives_a_server_error(api, world, path, method):  # noqa: F811
    schema = document()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    token = world["reviewer"] if path.startswith("/reviews") else world["owner"]
    target = fill(path, world, api)

    @given(body=strategy(schema))
    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def send(body):
        raw = json.dumps(body)  # a lone surrogate travels as "\ud800", which JSON parsers turn back into one
        response = api.call(method.upper(), target, raw=raw, token=token)
        assert response.status_code < 500, (method, target, raw[:300], response.body[:300])
        assert response.json is None or "Traceback" not in json.dumps(response.json)

    send()


@pytest.mark.parametrize("name", ["Ada\ud800", "\u202eadA", "A\u200bda", "Ada\u2028", "Ada\x85", "Ada\u2029",
                                  "\ufeffAda", "Ada\u00a0Lovelace"])
def test_a_name_that_is_not_plain_text_is_400_on_the_unauthenticated_routes(api, name):  # noqa: F811
    email = unique_email()
    raw = json.dumps({"email": email, "password": "correct horse", "first_name": name, "last_name": "L"})
    error = assert_error(api.call("POST", "/auth/signup", raw=raw), 400, "validation_error")
    assert "first_name" in error["details"]
    assert api.mails_to(email) == []


@pytest.mark.parametrize("email", ["ada\ud800@example.com", "ada\u202e@example.com", "a\u200bda@example.com",
                                   "ada@exa\u2028mple.com"])
def test_an_email_that_is_not_plain_text_is_400_at_sign_up_and_login(api, email):  # noqa: F811
    for path, body in (("/auth/signup", {"email": email, "password": "correct horse", "first_name": "A",
                                         "last_name": "L"}), ("/auth/login", {"email": email, "password": "x"})):
        error = assert_error(api.call("POST", path, raw=json.dumps(body)), 400, "validation_error")
        assert "email" in error["details"]


def test_text_is_stored_nfc_normalised_and_a_message_keeps_its_lines(api, world):  # noqa: F811
    decomposed = "Jose\u0301"  # "José" as e + combining accent
    r = api.patch(f"/accounts/{world['account_id']}", {"name": decomposed}, token=world["owner"])
    assert r.status_code == 200 and r.json["name"] == "Jos\u00e9"
    email = unique_email("lines")
    r = api.post(f"/accounts/{world['account_id']}/invitations",
                 {"email": email, "role": "guest", "message": "Hello,\nsee you soon"}, token=world["owner"])
    assert r.status_code == 201
    bad = api.post(f"/accounts/{world['account_id']}/invitations",
                   {"email": unique_email(), "role": "guest", "message": "Hello \u202e!"}, token=world["owner"])
    assert "message" in assert_error(bad, 400, "validation_error")["details"]
