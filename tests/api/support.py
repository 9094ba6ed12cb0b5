"""Helpers shared by the API tests: a moto stack for a whole module, members of every role, the error envelope."""
from __future__ import annotations

import contextlib
import itertools
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import BASE_URL, MAIL_FROM, MOTO_JWKS, TEST_RATE_LIMITS, Api

ROOT = Path(__file__).parents[2]


def chalice_client(project_dir=ROOT, stage: str = "local"):
    """A chalice.test.Client over the app. It applies the stage's environment from `project_dir`'s
    .chalice/config.json on every request; a directory without one leaves the environment as the test set it."""
    from chalice.test import Client

    import app as app_module

    return Client(app_module.app, stage_name=stage, project_dir=str(project_dir))


@pytest.fixture(scope="module")
def stack():
    """One moto stack and client for a whole test module: building one costs seconds, a request milliseconds.

    Tests that share it create their own users and accounts (see `unique_email`).
    """
    with moto_stack(), chalice_client() as c:
        yield Api(c)


@pytest.fixture
def api(stack):
    """The module's `Api`: a test module that imports `api` and `stack` from here shares one stack."""
    yield stack
    from chalicelib import container

    container.clock.reset()  # a test that moved the business clock does not move it for the next one


_emails = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    """An address no other test of the process has used (rate limits and outboxes are per address)."""
    return f"{prefix}{next(_emails)}@example.com"


@contextlib.contextmanager
def moto_stack(extra_env: dict | None = None):
    """The same stack as the `aws` fixture, for fixtures with a wider scope than a function."""
    import moto

    from chalicelib import container
    from chalicelib.adapters.provision import provision

    with pytest.MonkeyPatch.context() as mp, moto.mock_aws():
        container.reset()
        env = provision("us-east-1", "latchkey-local", MAIL_FROM)  # the table the local stage names
        env.update({"STAGE": "local", "PUBLIC_BASE_URL": BASE_URL, "JWKS_URL": f"file://{MOTO_JWKS}",
                    "PLATFORM_REVIEWER_EMAILS": "reviewer@latchkey.example", "RATE_LIMITS": TEST_RATE_LIMITS,
                    **(extra_env or {})})
        for key, value in env.items():
            mp.setenv(key, value)
        container.reset()
        try:
            yield env
        finally:
            container.reset()


def user_id_of(api: Api, token: str) -> str:
    me = api.get("/me", token=token)
    assert me.status_code == 200, me.json
    return me.json["user"]["user_id"]


def add_member(account_id: str, user_id: str, email: str, role: str, status: str = "active") -> None:
    """Write a membership straight into the table, with its email seat (faster than an invitation per role)."""
    from chalicelib.adapters.dynamo.accounts import member_item, seat_for_member
    from chalicelib.adapters.dynamo.keys import account_pk
    from chalicelib.domain.model import Membership

    member_item(Membership(account_id, user_id, role, status, datetime.now(timezone.utc), email=email)).save()
    seat_for_member(account_pk(account_id), email, user_id).save()


def signed_up_member(api: Api, account_id: str, email: str, role: str, status: str = "active",
                     first: str = "Member", last: str = "Person") -> str:
    """A verified, signed-in user who holds `role` in the account; returns their access token."""
    token = api.signup_verified(email, first=first, last=last)
    add_member(account_id, user_id_of(api, token), email, role, status)
    return token


def audit_items(api: Api, account_id: str, token: str) -> list[dict]:
    """Every audit event of the account, newest first, following the cursors."""
    items, cursor = [], None
    while True:
        path = f"/accounts/{account_id}/audit?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, token=token)
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def assert_error(response, status: int, code: str) -> dict:
    """The contract's error envelope with this status and code; returns the error object."""
    assert response.status_code == status, (response.status_code, response.body[:500])
    assert response.json is not None, response.body[:500]
    error = response.json["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip()
    assert "Traceback" not in response.body.decode("utf-8", "replace")
    return error


# One member per column of the account matrix: label -> (role, status as stored, matrix column).
MEMBERS = {
    "owner": ("owner", "active", "owner"),
    "authorized_user": ("authorized_user", "active", "authorized_user"),
    "authorized_user*application_required": ("authorized_user", "application_required", "authorized_user*"),
    "authorized_user*in_review": ("authorized_user", "in_review", "authorized_user*"),
    "admin": ("admin", "active", "admin"),
    "collaborator": ("collaborator", "active", "collaborator"),
    "advisor": ("advisor", "active", "advisor"),
    "guest": ("guest", "active", "guest"),
}


def build_team(api: Api, name: str = "Acme Ltd") -> dict:
    """A business account with one member per entry of MEMBERS: {"account_id", "tokens", "emails", "user_ids"}."""
    owner_email = unique_email("owner")
    owner, account_id = api.user_with_account(owner_email, type_="business", name=name)
    tokens, emails = {"owner": owner}, {"owner": owner_email}
    for label, (role, status, _) in MEMBERS.items():
        if label != "owner":
            emails[label] = unique_email(role)
            tokens[label] = signed_up_member(api, account_id, emails[label], role, status)
    return {"account_id": account_id, "tokens": tokens, "emails": emails,
            "user_ids": {label: user_id_of(api, token) for label, token in tokens.items()}}
