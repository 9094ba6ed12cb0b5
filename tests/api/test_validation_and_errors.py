"""Request validation and the error envelope: what a client sees when it sends something wrong."""
from __future__ import annotations

import base64
import json

import pytest

from tests.api import support
from tests.api.support import assert_error, signed_up_member, unique_email

# One moto stack for the module; every test makes its own users and accounts.
stack, api = support.stack, support.api

PASSWORD = "correct horse"


def signup(api, **changes):
    """Sign up a new address with these fields changed; a field given as `...` is left out."""
    body = {"email": unique_email(), "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace", **changes}
    return api.post("/auth/signup", {k: v for k, v in body.items() if v is not ...})


def cursor_of(value) -> str:
    """A cursor in the same encoding the API uses, holding whatever a forger chooses."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def owner_token(stack):
    return stack.signup_verified(unique_email("owner"))


@pytest.fixture
def owner(api, owner_token):
    """The module's owner and a new account of theirs."""
    r = api.post("/accounts", {"name": "Acme Ltd", "type": "business"}, token=owner_token)
    assert r.status_code == 201, r.json
    return owner_token, r.json["account_id"]


# Malformed bodies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"email": ', "not json", "{'email': 'a@x.com'}", '{"a": 1,}', "\ufeff{}x",
                                 b"\xff\xfe\x00{"])
def test_a_body_that_is_not_json_is_400_invalid_json(api, raw):
    assert_error(api.post("/auth/signup", raw=raw), 400, "invalid_json")


def test_a_body_that_is_not_json_is_400_on_an_authenticated_route_too(api, owner):
    token, account_id = owner
    assert_error(api.patch(f"/accounts/{account_id}", raw="{name: x}", token=token), 400, "invalid_json")


@pytest.mark.parametrize("raw, said", [('{"name": "Home", "type": "personal", "type": "business"}', "twice"),
                                      ('{"name": "Home", "address": {"city": "A", "city": "B"}}', "twice"),
                                      ('{"name": "Home", "limit": NaN}', "NaN"),
                                      ('{"name": "Home", "limit": -Infinity}', "-Infinity")])
def test_json_that_parsers_read_differently_is_refused_and_nothing_is_made(api, owner, raw, said):
    token, _ = owner
    before = len(api.get("/me", token=token).json["accounts"])
    error = assert_error(api.post("/accounts", raw=raw, token=token), 400, "invalid_json")
    assert said in error["message"]
    assert len(api.get("/me", token=token).json["accounts"]) == before


@pytest.mark.parametrize("raw", ["[]", '[{"email": "a@x.com"}]', '"text"', "42", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_400(api, raw):
    assert_error(api.post("/auth/signup", raw=raw), 400, "invalid_json")


@pytest.mark.parametrize("raw", ["[" * 50_000, '{"a":' * 12_000])  # under the 64 KiB limit
def test_deeply_nested_json_is_400_invalid_json_not_500(api, raw):
    assert_error(api.post("/auth/signup", raw=raw), 400, "invalid_json")


def test_a_body_over_64_kib_is_refused_with_400(api):
    r = signup(api, first_name="A" * 70_000)
    error = assert_error(r, 400, "validation_error")
    assert "body" in error["details"]


def signup_body(email: str) -> str:
    return json.dumps({"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"})


def test_a_json_route_called_with_another_content_type_is_refused_without_reaching_the_service(api):
    email = unique_email()
    r = api.post("/auth/signup", raw=signup_body(email), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert api.mails_to(email) == []


def test_a_415_answer_has_the_error_envelope(api):
    r = api.post("/auth/signup", raw=signup_body(unique_email()), headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


def test_a_wrong_media_type_is_a_check_of_the_body_made_after_who_is_asking(api):
    """401 before 415, and a stranger's 404 before it: the media type is part of the body."""
    token, account = api.user_with_account(unique_email("owner"))
    stranger = api.signup_verified(unique_email("stranger"))
    text = {"Content-Type": "text/plain"}
    path = f"/accounts/{account}"
    assert_error(api.call("PATCH", path, raw='{"name": "x"}', headers=text), 401, "unauthenticated")
    assert_error(api.call("PATCH", path, raw='{"name": "x"}', headers=text, token=stranger), 404, "not_found")
    assert_error(api.call("PATCH", "/accounts/acc_01J00000000000000000000000", raw='{"name": "x"}', headers=text,
                          token=token), 404, "not_found")
    assert_error(api.call("PATCH", path, raw='{"name": "x"}', headers=text, token=token), 415,
                 "unsupported_media_type")


def test_chalice_deploy_would_accept_every_routes_media_types():
    """`chalice deploy` refuses a route that mixes binary and text media types; `chalice package` does not check."""
    from chalice.deploy.validate import validate_route_content_types

    import app as app_module

    validate_route_content_types(app_module.app.routes, app_module.app.api.binary_types)


@pytest.mark.parametrize("media_type", ["image/png", "application/vnd.ms-excel", "application/json-patch+json",
                                        "x/y; boundary=zzz"])
def test_a_media_type_no_route_lists_is_refused_by_the_function_in_the_envelope(api, media_type):
    """The function as Lambda runs it: Chalice refuses these before any view, and the answer is still ours."""
    email = unique_email()
    r = api.post("/auth/signup", raw=signup_body(email), headers={"Content-Type": media_type,
                                                                  "Authorization": "Bearer secret-token"})
    assert_error(r, 415, "unsupported_media_type")
    assert "secret-token" not in r.body.decode() and "Code" not in r.json
    assert r.headers["Cache-Control"] == "no-store"
    assert api.mails_to(email) == []


# Field rules -----------------------------------------------------------------------------------------

def test_an_unknown_field_is_400_and_the_details_name_it(api):
    email = unique_email()
    error = assert_error(signup(api, email=email, is_admin=True), 400, "validation_error")
    assert error["details"] == {"is_admin": "is not a known field"}
    assert api.mails_to(email) == []


def test_every_unknown_field_is_named_in_the_details(api):
    error = assert_error(signup(api, role="owner", is_admin=True), 400, "validation_error")
    assert {"role", "is_admin"} <= set(error["details"])


def test_an_unknown_nested_field_is_named_with_its_path(api, owner):
    token, account_id = owner
    r = api.patch(f"/accounts/{account_id}", {"owner_info": {"email": "other@example.com"}}, token=token)
    error = assert_error(r, 400, "validation_error")
    assert error["details"] == {"owner_info.email": "is not a known field"}


def test_every_missing_field_is_named(api):
    error = assert_error(signup(api, password=..., last_name=...), 400, "validation_error")
    assert error["details"] == {"password": "is required", "last_name": "is required"}


def test_an_empty_body_is_a_validation_error_naming_every_required_field(api):
    error = assert_error(api.post("/auth/signup"), 400, "validation_error")
    assert set(error["details"]) == {"email", "password", "first_name", "last_name"}


@pytest.mark.parametrize("field, value", [("email", 5), ("password", ["x"] * 8), ("first_name", None),
                                          ("last_name", {"a": 1}), ("first_name", True)])
def test_a_wrong_type_is_400_naming_the_field(api, field, value):
    error = assert_error(signup(api, **{field: value}), 400, "validation_error")
    assert error["details"][field].startswith("must be of type")


@pytest.mark.parametrize("body, field", [({"name": "Home", "type": "team"}, "type"),
                                         ({"name": 7, "type": "personal"}, "name"),
                                         ({"name": "", "type": "personal"}, "name"),
                                         ({"name": "Home", "type": "client"}, "type")])
def test_creating_an_account_with_a_bad_field_is_400_naming_it(api, body, field):
    token = api.signup_verified(unique_email())
    error = assert_error(api.post("/accounts", body, token=token), 400, "validation_error")
    assert field in error["details"]
    assert api.get("/me", token=token).json["accounts"] == []


@pytest.mark.parametrize("body, field", [({}, "body"), ({"owner_info": {}}, "owner_info"),
                                         ({"account_info": {"plan": "gold"}}, "account_info.plan"),
                                         ({"logo_url": "http://cdn.example.com/logo.png"}, "logo_url"),
                                         ({"logo_url": "javascript:alert(1)"}, "logo_url"),
                                         ({"business_info": {"timezone": 3}}, "business_info.timezone")])
def test_a_bad_account_change_is_400_naming_the_field(api, owner, body, field):
    token, account_id = owner
    error = assert_error(api.patch(f"/accounts/{account_id}", body, token=token), 400, "validation_error")
    assert field in error["details"]


def test_names_may_be_100_characters_but_not_101(api):
    assert signup(api, first_name="A" * 100).status_code == 202
    error = assert_error(signup(api, first_name="B" * 101), 400, "validation_error")
    assert error["details"] == {"first_name": "must be at most 100 characters"}


def test_an_account_name_may_be_120_characters_but_not_121(api, owner_token):
    assert api.post("/accounts", {"name": "N" * 120, "type": "personal"}, token=owner_token).status_code == 201
    r = api.post("/accounts", {"name": "N" * 121, "type": "personal"}, token=owner_token)
    assert assert_error(r, 400, "validation_error")["details"] == {"name": "must be at most 120 characters"}


_INJECTIONS = ["Ada\r\nBcc: victim@example.com", "Ada\x00", "\nAda", "Ada\rX", "Ada\tLovelace",
               "Ada\n"]  # a regex `$` matches before a final LF


@pytest.mark.parametrize("name", _INJECTIONS)
def test_a_name_with_control_characters_is_refused(api, name):
    # header injection: names reach mail headers and subjects
    email = unique_email()
    error = assert_error(signup(api, email=email, first_name=name), 400, "validation_error")
    assert "first_name" in error["details"]
    assert api.mails_to(email) == []


@pytest.mark.parametrize("name", _INJECTIONS)
def test_an_account_name_with_control_characters_is_refused(api, owner, name):
    token, account_id = owner
    error = assert_error(api.patch(f"/accounts/{account_id}", {"name": name}, token=token), 400, "validation_error")
    assert "name" in error["details"]
    assert api.get(f"/accounts/{account_id}", token=token).json["name"] == "Acme Ltd"


# Emails ------------------------------------------------------------------------------------------------

def test_an_email_is_trimmed_and_lower_cased_before_it_is_stored_or_compared(api):
    email = unique_email("mixed")
    # WHEN someone signs up with spaces and capitals around their address
    assert signup(api, email=f"  {email.capitalize().replace('example', 'Example')} ").status_code == 202
    # THEN the mail goes to the normal form, and that is the address they sign in with
    token = api.last_link(email, "/verify/").rsplit("/", 1)[1]
    assert api.post("/auth/verify-email", {"token": token}).status_code == 200
    login = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert login.status_code == 200
    assert api.get("/me", token=login.json["access_token"]).json["user"]["email"] == email
    # AND the same address written differently is the same user
    assert api.post("/auth/login", {"email": f" {email.upper()}", "password": PASSWORD}).status_code == 200
    # AND signing up again in capitals does not make a second user
    assert signup(api, email=email.upper(), password="another password").status_code == 202
    assert api.post("/auth/login", {"email": email, "password": "another password"}).status_code == 401


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.com", "a@example..com", "@example.com",
                                   "a@@example.com", "a@example.c", "", "a@example.com\r\nBcc: b@example.com",
                                   "a@exa\x00mple.com", "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com"])
def test_a_malformed_email_is_refused(api, email):
    error = assert_error(signup(api, email=email), 400, "validation_error")
    assert "email" in error["details"]


def test_login_with_a_malformed_email_is_a_validation_error_not_a_credentials_check(api):
    assert_error(api.post("/auth/login", {"email": "nobody", "password": "x"}), 400, "validation_error")


# Lists -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", ["0", "201", "abc", "-1", "1.5", "1e2", "999999999999999999999"])
@pytest.mark.parametrize("route", ["audit", "members"])
def test_a_limit_outside_1_to_200_is_400(api, owner, route, limit):
    token, account_id = owner
    error = assert_error(api.get(f"/accounts/{account_id}/{route}?limit={limit}", token=token), 400,
                         "validation_error")
    assert "limit" in error["details"]


@pytest.mark.parametrize("route", ["audit", "members"])
def test_limits_1_and_200_are_accepted(api, owner, route):
    token, account_id = owner
    for limit in ("1", "200"):
        r = api.get(f"/accounts/{account_id}/{route}?limit={limit}", token=token)
        assert r.status_code == 200 and len(r.json["items"]) <= int(limit)


@pytest.mark.parametrize("cursor", ["garbage", "!!!!", "e30", cursor_of({"k": 5}), cursor_of([1, 2]),
                                    cursor_of(None), cursor_of({"k": "MEMBER#usr_x"}), cursor_of({"x": "AUDIT#"}),
                                    cursor_of({"k": "AUDIT#" + "z" * 600}), "A" * 2000])
def test_a_forged_cursor_is_400_not_500(api, owner, cursor):
    token, account_id = owner
    error = assert_error(api.get(f"/accounts/{account_id}/audit?cursor={cursor}", token=token), 400,
                         "validation_error")
    assert "cursor" in error["details"]


def _real_cursor(api, token, path) -> str:
    page = api.get(f"{path}?limit=1", token=token)
    assert page.status_code == 200 and page.json["next_cursor"], page.json
    return page.json["next_cursor"]


def test_a_cursor_the_api_handed_out_works_and_one_changed_by_hand_is_400(api, owner):
    token, account_id = owner
    for n in range(3):
        api.patch(f"/accounts/{account_id}", {"name": f"Household {n}"}, token=token)
    cursor = _real_cursor(api, token, f"/accounts/{account_id}/audit")
    assert api.get(f"/accounts/{account_id}/audit?limit=1&cursor={cursor}", token=token).status_code == 200
    body, mac = cursor.split(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["pk"] = "ACCOUNT#acc_someone_else"  # a key of another partition, with the original signature
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    for bad in (f"{flipped}.{mac}", f"{forged}.{mac}", f"{body}.{mac[:-2]}", body):
        assert_error(api.get(f"/accounts/{account_id}/audit?cursor={bad}", token=token), 400, "validation_error")


def test_a_cursor_of_another_list_is_400(api, owner):
    token, account_id = owner
    other_token, other_account = api.user_with_account(unique_email("other"))
    for n in range(2):
        api.patch(f"/accounts/{account_id}", {"name": f"Household {n}"}, token=token)
        api.patch(f"/accounts/{other_account}", {"name": f"Theirs {n}"}, token=other_token)
    audit_cursor = _real_cursor(api, token, f"/accounts/{account_id}/audit")
    # a genuine cursor of one list is refused by another list of the same account...
    assert_error(api.get(f"/accounts/{account_id}/members?cursor={audit_cursor}", token=token), 400,
                 "validation_error")
    assert_error(api.get(f"/accounts/{account_id}/invitations?cursor={audit_cursor}", token=token), 400,
                 "validation_error")
    # ...and by the same list of another account, even for someone who may read that one
    assert_error(api.get(f"/accounts/{other_account}/audit?cursor={audit_cursor}", token=other_token), 400,
                 "validation_error")


# The error envelope ------------------------------------------------------------------------------------

def test_an_unexpected_failure_is_500_with_the_envelope_and_no_detail_of_the_failure(api, owner_token, monkeypatch):
    from chalicelib.services import me


    def broken(*_args, **_kwargs):
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(me, "load", broken)
    r = api.get("/me", token=owner_token)
    assert_error(r, 500, "internal_error")
    assert b"hunter2" not in r.body and b"RuntimeError" not in r.body and b"File " not in r.body


@pytest.mark.parametrize("method, path", [("GET", "/no/such/route"), ("GET", "/accounts/acc_1/nothing"),
                                          ("POST", "/me/../../health")])
def test_an_unknown_route_is_a_4xx_that_reaches_no_handler(api, method, path):
    r = api.call(method, path, token="x")
    assert 400 <= r.status_code < 500
    assert b"Traceback" not in r.body


@pytest.mark.parametrize("method, path", [("PUT", "/health"), ("GET", "/accounts"), ("DELETE", "/me")])
def test_an_unknown_method_on_a_known_route_is_a_4xx(api, method, path):
    r = api.call(method, path)
    assert 400 <= r.status_code < 500
    assert b"Traceback" not in r.body


# The order of checks: authenticate (401), authorize (404/403), then validate (400) -------------------

INVALID_PATCHES = [{"name": 5, "surprise": True}, {}, {"logo_url": "ftp://x"}]


@pytest.mark.parametrize("body", INVALID_PATCHES)
def test_without_a_token_an_invalid_body_is_401(api, owner, body):
    _, account_id = owner
    assert_error(api.patch(f"/accounts/{account_id}", body), 401, "unauthenticated")
    assert_error(api.patch(f"/accounts/{account_id}", raw="{broken"), 401, "unauthenticated")


@pytest.mark.parametrize("body", INVALID_PATCHES)
def test_a_stranger_with_an_invalid_body_gets_404(api, owner, body):
    _, account_id = owner
    stranger = api.signup_verified(unique_email("stranger"))
    assert_error(api.patch(f"/accounts/{account_id}", body, token=stranger), 404, "not_found")
    assert_error(api.patch(f"/accounts/{account_id}", raw="{broken", token=stranger), 404, "not_found")


@pytest.mark.parametrize("body", INVALID_PATCHES)
def test_a_guest_with_an_invalid_body_gets_403_and_learns_nothing_about_the_body(api, owner, body):
    # GIVEN a guest of the account, who may not change anything in it
    _, account_id = owner
    guest = signed_up_member(api, account_id, unique_email("guest"), "guest")
    # WHEN they send an invalid change, or no JSON at all
    r = api.patch(f"/accounts/{account_id}", body, token=guest)
    broken = api.patch(f"/accounts/{account_id}", raw="{broken", token=guest)
    # THEN both are refused for the permission, and the reply says nothing about the body
    for response in (r, broken):
        error = assert_error(response, 403, "forbidden")
        assert "details" not in error or not set(error["details"]) & {"name", "surprise", "logo_url", "body"}


@pytest.mark.parametrize("body", INVALID_PATCHES)
def test_the_owner_with_the_same_invalid_body_gets_400(api, owner, body):
    token, account_id = owner
    assert_error(api.patch(f"/accounts/{account_id}", body, token=token), 400, "validation_error")


def _guest_refused_routes():
    """Routes of an account whose declared permission a guest does not hold, and that take a body."""
    import app  # noqa: F401  (importing the app registers every route)
    from chalicelib.api.http import ROUTES
    from chalicelib.domain.permissions import ACCOUNT_ACTIONS, ACCOUNT_GRANTS

    return [spec for spec in ROUTES if spec.scope.kind == "account" and spec.body is not None
            and spec.scope.actions <= set(ACCOUNT_ACTIONS) and not spec.scope.actions & ACCOUNT_GRANTS["guest"]]


@pytest.mark.parametrize("spec", _guest_refused_routes(), ids=lambda s: f"{s.method} {s.path}")
def test_on_every_route_a_member_without_the_permission_gets_403_whatever_the_body(api, owner, spec):
    _, account_id = owner
    guest = signed_up_member(api, account_id, unique_email("guest"), "guest")
    path = spec.path.replace("{account_id}", account_id).replace("{invitation_id}", "inv_x").replace(
        "{user_id}", "usr_x")
    for raw in ('{"unknown": [1, 2, 3]}', "{broken", "[]"):
        assert_error(api.call(spec.method, path, raw=raw, token=guest), 403, "forbidden")
