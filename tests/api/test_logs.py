"""The service log: one JSON object per line, with the request id and the fields passed, at INFO and above."""
from __future__ import annotations

import json

from tests.api.support import api, stack, unique_email  # noqa: F401  (fixtures)


def log_lines(capsys) -> list[dict]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_strangers_refusal_reaches_the_log_as_json_with_its_fields_and_request_id(api, capsys):  # noqa: F811
    # GIVEN an account and someone who is not its member
    _, account_id = api.user_with_account(unique_email("owner"))
    stranger = api.signup_verified(unique_email("stranger"))
    capsys.readouterr()
    # WHEN the stranger asks for it
    assert api.get(f"/accounts/{account_id}", token=stranger).status_code == 404
    # THEN the refusal is an INFO line with the account, the caller and the request's id
    [line] = [entry for entry in log_lines(capsys) if entry["message"] == "stranger refused"]
    assert line["level"] == "INFO" and line["service"] == "latchkey"
    assert line["account_id"] == account_id and line["user_id"].startswith("usr_")
    assert isinstance(line["request_id"], str) and line["request_id"]


def test_each_request_has_its_own_request_id(api, capsys):  # noqa: F811
    capsys.readouterr()
    for _ in range(2):
        api.get("/invitations/no-such-link-token-at-all")
    ids = [entry["request_id"] for entry in log_lines(capsys) if entry["message"] == "unknown invitation link"]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_an_unexpected_failure_is_logged_with_its_traceback_but_not_its_path(api, capsys, monkeypatch):  # noqa: F811
    from chalicelib.services import me

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is on fire")

    token = api.signup_verified(unique_email("unlucky"))
    monkeypatch.setattr(me, "load", broken)
    capsys.readouterr()
    assert api.get("/me", token=token).status_code == 500
    [line] = [entry for entry in log_lines(capsys) if entry["level"] == "ERROR"]
    assert line["message"] == "unhandled error on GET /me" and "the disk is on fire" in line["exception"]
    assert line["request_id"]


def test_the_level_comes_from_configuration(monkeypatch, capsys):
    import logging

    from chalicelib import logs

    logs.configure("WARNING")
    try:
        logging.getLogger("chalicelib.test").info("quiet")
        logging.getLogger("chalicelib.test").warning("loud", extra={"reason": "testing"})
        lines = log_lines(capsys)
        assert [(entry["message"], entry.get("reason")) for entry in lines] == [("loud", "testing")]
    finally:
        logs.configure("INFO")
