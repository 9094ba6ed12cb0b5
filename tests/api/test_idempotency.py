"""Idempotency-Key on creating POSTs: a retried request does its work once and answers the same."""
from __future__ import annotations

from tests.api import support
from tests.api.support import assert_error, unique_email

stack, api = support.stack, support.api


def test_the_same_key_and_body_create_one_account_and_answer_the_same(api):
    token = api.signup_verified(unique_email("idem"))
    body = {"name": "Once only", "type": "personal"}
    first = api.post("/accounts", body, token=token, headers={"Idempotency-Key": "create-1"})
    second = api.post("/accounts", body, token=token, headers={"Idempotency-Key": "create-1"})
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert "Idempotent-Replayed" not in first.headers and second.headers["Idempotent-Replayed"] == "true"
    names = [a["name"] for a in api.get("/me", token=token).json["accounts"]]
    assert names.count("Once only") == 1
    # without a key, or with another one, it is a new request
    assert api.post("/accounts", body, token=token, headers={"Idempotency-Key": "create-2"}).json["account_id"] != \
        first.json["account_id"]


def test_the_same_key_with_another_body_is_422_and_creates_nothing(api):
    token = api.signup_verified(unique_email("idem"))
    api.post("/accounts", {"name": "First", "type": "personal"}, token=token, headers={"Idempotency-Key": "k"})
    r = api.post("/accounts", {"name": "Second", "type": "personal"}, token=token, headers={"Idempotency-Key": "k"})
    assert_error(r, 422, "idempotency_key_reused")
    assert [a["name"] for a in api.get("/me", token=token).json["accounts"]] == ["First"]


def test_keys_are_per_caller(api):
    one, two = (api.signup_verified(unique_email("idem")) for _ in range(2))
    body = {"name": "Shared key", "type": "personal"}
    a = api.post("/accounts", body, token=one, headers={"Idempotency-Key": "same"})
    b = api.post("/accounts", body, token=two, headers={"Idempotency-Key": "same"})
    assert a.json["account_id"] != b.json["account_id"] and "Idempotent-Replayed" not in b.headers


def test_a_retried_invitation_mails_once(api):
    token, account = api.user_with_account(unique_email("owner"))
    friend = unique_email("friend")
    for _ in range(3):
        r = api.post(f"/accounts/{account}/invitations", {"email": friend, "role": "collaborator"}, token=token,
                     headers={"Idempotency-Key": "invite-friend"})
        assert r.status_code == 201
    assert len(api.mails_to(friend)) == 1


def test_an_error_is_not_kept_so_a_retry_runs_again(api):
    token, account = api.user_with_account(unique_email("owner"))
    friend = unique_email("friend")
    api.post(f"/accounts/{account}/invitations", {"email": friend, "role": "guest"}, token=token)
    conflict = api.post(f"/accounts/{account}/invitations", {"email": friend, "role": "guest"}, token=token,
                        headers={"Idempotency-Key": "after-conflict"})
    assert_error(conflict, 409, "invitation_pending")
    pending = api.get(f"/accounts/{account}/invitations?status=pending", token=token).json["items"][0]
    api.delete(f"/accounts/{account}/invitations/{pending['invitation_id']}", token=token)
    retried = api.post(f"/accounts/{account}/invitations", {"email": friend, "role": "guest"}, token=token,
                       headers={"Idempotency-Key": "after-conflict"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_request_still_in_flight_with_the_key_is_409(api):
    from chalicelib.api import idempotency

    inner = {}

    def work():
        try:
            idempotency.run_once("usr_x", "POST", "/accounts", "busy", {"name": "x"}, lambda: {"status": 201, "body": {}})
        except idempotency.InProgress as exc:
            inner["error"] = exc
        return {"status": 201, "body": {"ok": True}}

    idempotency.run_once("usr_x", "POST", "/accounts", "busy", {"name": "x"}, work)
    assert inner["error"].code == "request_in_progress"


def test_a_malformed_key_is_400(api):
    token = api.signup_verified(unique_email("idem"))
    for key in ("x" * 256, "tab\there", "\u00e9t\u00e9"):
        r = api.post("/accounts", {"name": "Bad key", "type": "personal"}, token=token, headers={"Idempotency-Key": key})
        assert_error(r, 400, "validation_error")
