"""One contract, two stores: MemoryStore (what the service tests run on) must behave as DynamoStore does."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters.dynamo_codec import _member_item
from chalicelib.adapters.dynamo_store import DynamoStore
from chalicelib.adapters.memory_store import MemoryStore
from chalicelib.domain.errors import Conflict, UserExists, ValidationFailed
from chalicelib.domain.model import Account, Actor, AuditEvent, Membership, OneTimeToken, User

T0 = datetime(2030, 1, 7, 9, 0, 0, 123000, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def shared_botocore_loader(monkeypatch):
    """The `aws` fixture rebinds the models for every test, and each model then opens its own PynamoDB
    Connection, whose new botocore session parses the service model files again (~0.2 s each). Sharing
    one loader keeps the code path and halves this file's run time."""
    import botocore.loaders
    import botocore.session
    import pynamodb.connection.base

    loader = botocore.loaders.create_loader()

    def session_with_shared_loader():
        session = botocore.session.get_session()
        session.register_component("data_loader", loader)
        return session

    monkeypatch.setattr(pynamodb.connection.base, "get_session", session_with_shared_loader)


@pytest.fixture(params=["memory", "dynamo"])
def backend(request):
    """(store, seed_member): the second writes a membership the way an accepted invitation would."""
    if request.param == "memory":
        store = MemoryStore()

        def seed(m: Membership) -> None:
            store.members[(m.account_id, m.user_id)] = m
        return store, seed
    request.getfixturevalue("aws")  # moto in process, models bound to the provisioned table
    return DynamoStore(), lambda m: _member_item(m).save()


@pytest.fixture
def store(backend):
    return backend[0]


def user(n: int | str, email: str | None = None) -> User:
    return User(f"usr_{n}", email or f"user{n}@example.com", "First", "Last", T0)


def event(account_id: str, n: int, action: str = "account.updated", at: datetime = T0) -> AuditEvent:
    return AuditEvent(f"evt_{n:03d}", account_id, at, action, Actor("usr_1", "user1@example.com"),
                      "account", account_id, {"n": n})


def new_account(store, account_id: str = "acc_1", owner_id: str = "usr_1") -> Account:
    account = Account(account_id, "Household", "personal", T0, owner_ids=[owner_id])
    owner = Membership(account_id, owner_id, "owner", "active", T0, email=f"{owner_id}@example.com")
    store.create_account(account, owner, event(account_id, 0, "account.created"))
    return account


# DynamoStore._page passes the cursor's key to PynamoDB as plain strings, not attribute values.
PAGED_BACKENDS = pytest.mark.parametrize("backend", ["memory", "dynamo"], indirect=True)


def all_pages(list_page, limit: int) -> tuple[list, int]:
    items, cursor, pages = [], None, 0
    while True:
        page = list_page(limit, cursor)
        items += page.items
        pages += 1
        if page.next_cursor is None:
            return items, pages
        cursor = page.next_cursor


class TestStoreContract:
    # users ---------------------------------------------------------------------------------------
    def test_a_created_user_is_found_by_id_and_by_email(self, store):
        store.create_user(user(1))

        assert store.get_user("usr_1") == user(1)
        assert store.user_id_for_email("user1@example.com") == "usr_1"
        assert store.get_user("usr_2") is None and store.user_id_for_email("user2@example.com") is None

    def test_a_second_user_with_the_same_email_is_refused_and_the_first_is_intact(self, store):
        store.create_user(user(1, "ada@example.com"))

        with pytest.raises(UserExists):
            store.create_user(user(2, "ada@example.com"))

        assert store.user_id_for_email("ada@example.com") == "usr_1"
        assert store.get_user("usr_1") == user(1, "ada@example.com")
        assert store.get_user("usr_2") is None

    def test_deleting_a_user_frees_the_email(self, store):
        store.create_user(user(1, "ada@example.com"))
        store.delete_user(user(1, "ada@example.com"))

        assert store.get_user("usr_1") is None and store.user_id_for_email("ada@example.com") is None
        store.create_user(user(2, "ada@example.com"))
        assert store.user_id_for_email("ada@example.com") == "usr_2"

    def test_users_are_read_in_batches_and_missing_ids_are_left_out(self, store):
        for n in (1, 2, 3):
            store.create_user(user(n))

        assert store.get_users(["usr_3", "usr_1", "usr_9", "usr_1"]) == {"usr_1": user(1), "usr_3": user(3)}
        assert store.get_users([]) == {}

    def test_profile_changes_login_time_and_verification_are_recorded(self, store):
        store.create_user(user(1))
        later = T0 + timedelta(hours=1)

        store.mark_email_verified("usr_1")
        store.record_login("usr_1", later)
        store.update_profile("usr_1", {"first_name": "Ada", "phone": "+441234567890", "email": "evil@example.com"})

        got = store.get_user("usr_1")
        assert (got.email_verified, got.last_login_at, got.first_name, got.phone) == (True, later, "Ada",
                                                                                       "+441234567890")
        assert got.email == "user1@example.com"  # the email is not a profile field

    def test_changes_to_an_unknown_user_are_ignored(self, store):
        store.mark_email_verified("usr_ghost")
        store.record_login("usr_ghost", T0)
        store.update_profile("usr_ghost", {"first_name": "Ghost"})

        assert store.get_user("usr_ghost") is None

    # one-time tokens -----------------------------------------------------------------------------
    def test_a_token_is_taken_once(self, store):
        token = OneTimeToken("a" * 64, "verify_email", "usr_1", T0 + timedelta(hours=48))
        store.put_token(token)

        assert store.take_token("a" * 64, "verify_email") == token
        assert store.take_token("a" * 64, "verify_email") is None

    def test_a_token_asked_for_another_purpose_is_none_and_stays_usable(self, store):
        store.put_token(OneTimeToken("b" * 64, "reset_password", "usr_1", T0))

        assert store.take_token("b" * 64, "verify_email") is None
        assert store.take_token("b" * 64, "reset_password").user_id == "usr_1"

    def test_an_unknown_token_is_none(self, store):
        assert store.take_token("c" * 64, "verify_email") is None

    # accounts and memberships --------------------------------------------------------------------
    def test_a_created_account_comes_back_with_the_owners_membership(self, store):
        account = new_account(store)

        got, membership, _ = store.load_access("acc_1", "usr_1")
        assert got == account == store.get_account("acc_1")
        assert (membership.role, membership.status, membership.email) == ("owner", "active", "usr_1@example.com")
        assert store.get_membership("acc_1", "usr_1") == membership
        assert [e.action for e in store.list_audit("acc_1", 10, None).items] == ["account.created"]

    def test_access_of_a_stranger_and_to_an_unknown_account(self, store):
        account = new_account(store)

        assert store.load_access("acc_1", "usr_2")[:2] == (account, None)
        assert store.load_access("acc_9", "usr_1")[:2] == (None, None)
        assert store.get_membership("acc_1", "usr_2") is None and store.get_account("acc_9") is None

    def test_accounts_are_read_in_batches(self, store):
        new_account(store, "acc_1")
        new_account(store, "acc_2")

        assert set(store.get_accounts(["acc_2", "acc_1", "acc_9"])) == {"acc_1", "acc_2"}
        assert store.get_accounts([]) == {}

    def test_an_update_bumps_the_version_and_records_its_event(self, store):
        account = new_account(store)

        updated = store.update_account(account, {"name": "Ours", "business_info": {"city": "Leeds"}},
                                       event(account.account_id, 1))

        stored = store.get_account("acc_1")
        assert (stored.name, stored.business_info, stored.version) == ("Ours", {"city": "Leeds"}, 1)
        assert updated.version == 1
        assert [e.event_id for e in store.list_audit("acc_1", 10, None).items] == ["evt_001", "evt_000"]

    def test_two_updates_from_the_same_read_the_second_is_a_conflict(self, store):
        new_account(store)
        first_read, second_read = store.get_account("acc_1"), store.get_account("acc_1")
        store.update_account(first_read, {"name": "First"}, event("acc_1", 1))

        with pytest.raises(Conflict):
            store.update_account(second_read, {"name": "Second"}, event("acc_1", 2))

        assert store.get_account("acc_1").name == "First" and store.get_account("acc_1").version == 1
        assert [e.event_id for e in store.list_audit("acc_1", 10, None).items] == ["evt_001", "evt_000"]

    def test_an_update_can_change_the_callers_profile_in_the_same_write(self, store):
        store.create_user(user(1))
        account = new_account(store)

        store.update_account(account, {}, event("acc_1", 1), profile=("usr_1", {"last_name": "Lovelace"}))

        assert store.get_user("usr_1").last_name == "Lovelace" and store.get_account("acc_1").version == 1

    def test_closing_an_account_is_recorded_and_happens_once(self, store):
        account = new_account(store)

        store.close_account(account, event("acc_1", 1, "account.closed"))

        closed = store.get_account("acc_1")
        assert (closed.status, closed.version) == ("closed", 1)
        with pytest.raises(Conflict):
            store.close_account(closed, event("acc_1", 2, "account.closed"))
        with pytest.raises(Conflict):
            store.update_account(closed, {"name": "Reopened"}, event("acc_1", 3))
        assert [e.action for e in store.list_audit("acc_1", 10, None).items] == ["account.closed",
                                                                                 "account.created"]

    def test_memberships_of_a_user_span_their_accounts(self, backend):
        store, seed = backend
        new_account(store, "acc_1", owner_id="usr_1")
        new_account(store, "acc_2", owner_id="usr_2")
        seed(Membership("acc_2", "usr_1", "collaborator", "active", T0, email="usr_1@example.com"))

        found = store.memberships_of_user("usr_1")

        assert [(m.account_id, m.role) for m in found] == [("acc_1", "owner"), ("acc_2", "collaborator")]
        assert store.memberships_of_user("usr_9") == []

    @PAGED_BACKENDS
    def test_members_are_listed_in_pages_whose_cursors_round_trip(self, backend):
        store, seed = backend
        new_account(store, owner_id="usr_0")
        for n in range(1, 5):
            seed(Membership("acc_1", f"usr_{n}", "guest", "active", T0, email=f"g{n}@example.com"))

        first = store.list_members("acc_1", 2, None)
        assert [m.user_id for m in first.items] == ["usr_0", "usr_1"] and first.next_cursor
        second = store.list_members("acc_1", 2, first.next_cursor)
        assert [m.user_id for m in second.items] == ["usr_2", "usr_3"]
        third = store.list_members("acc_1", 2, second.next_cursor)
        assert [m.user_id for m in third.items] == ["usr_4"] and third.next_cursor is None
        # the same cursor gives the same page again
        assert store.list_members("acc_1", 2, first.next_cursor).items == second.items

    # audit ---------------------------------------------------------------------------------------
    @PAGED_BACKENDS
    def test_audit_events_are_listed_newest_first_in_pages(self, store):
        new_account(store)  # evt_000 at T0
        for n in range(1, 6):
            store.add_audit(event("acc_1", n, at=T0 + timedelta(seconds=n)))
        store.add_audit(event("acc_1", 6, at=T0 + timedelta(seconds=5)))  # same instant as evt_005

        events, pages = all_pages(lambda limit, cursor: store.list_audit("acc_1", limit, cursor), 3)

        assert [e.event_id for e in events] == ["evt_006", "evt_005", "evt_004", "evt_003", "evt_002", "evt_001",
                                                "evt_000"]
        assert pages == 3
        assert events[1] == event("acc_1", 5, at=T0 + timedelta(seconds=5))

    def test_audit_of_one_account_does_not_show_another(self, store):
        new_account(store, "acc_1")
        new_account(store, "acc_2")
        store.add_audit(event("acc_2", 7))

        assert [e.account_id for e in store.list_audit("acc_1", 10, None).items] == ["acc_1"]

    def test_a_forged_audit_cursor_is_a_validation_error(self, store):
        new_account(store)
        forged = [
            "not a cursor!",
            base64.urlsafe_b64encode(b"[1, 2]").decode(),
            base64.urlsafe_b64encode(json.dumps({"k": 42}).encode()).decode(),
            base64.urlsafe_b64encode(json.dumps({"k": "MEMBER#usr_1"}).encode()).decode(),
            base64.urlsafe_b64encode(json.dumps({"k": "AUDIT#" + "x" * 600}).encode()).decode(),
        ]
        for cursor in forged:
            with pytest.raises(ValidationFailed):
                store.list_audit("acc_1", 10, cursor)

    def test_a_cursor_from_the_audit_is_refused_by_the_member_list(self, store):
        new_account(store)
        store.add_audit(event("acc_1", 1, at=T0 + timedelta(seconds=1)))
        cursor = store.list_audit("acc_1", 1, None).next_cursor

        with pytest.raises(ValidationFailed):
            store.list_members("acc_1", 10, cursor)

    # rate limits ---------------------------------------------------------------------------------
    def test_hits_are_counted_per_key_and_window(self, store):
        window, expires = T0.replace(microsecond=0), T0 + timedelta(minutes=30)

        assert [store.count_hit("login:email:a", window, expires) for _ in range(3)] == [1, 2, 3]
        assert store.hits_many(["login:email:a", "login:email:b"], window) == {"login:email:a": 3}
        assert store.hits_many(["login:email:a"], window + timedelta(minutes=15)) == {}
        assert store.count_hit("login:email:a", window + timedelta(minutes=15), expires) == 1


# DynamoStore only ------------------------------------------------------------------------------

def every_string(value):
    """Every string inside a DynamoDB attribute value (maps, lists, sets), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from every_string(inner)
    elif isinstance(value, (list, tuple, set)):
        for inner in value:
            yield from every_string(inner)


def test_no_stored_attribute_contains_a_raw_link_token(aws):
    import boto3

    from chalicelib.services import identity
    from chalicelib.services.tokens import token_hash
    from tests.fakes import make_deps

    # GIVEN a sign-up and a password reset through the services, on the table
    deps = make_deps(store=DynamoStore())
    identity.signup(deps, "ada@example.com", "correct horse battery", "Ada", "Lovelace")
    identity.forgot_password(deps, "ada@example.com")
    raw_tokens = list(deps.secrets.issued)
    assert len(raw_tokens) == 2
    assert all(any(raw in link for link in deps.mailer.links("ada@example.com")) for raw in raw_tokens)

    # WHEN the whole table is read (a Scan is fine in a test, never in the app)
    pages = boto3.client("dynamodb", region_name="us-east-1").get_paginator("scan").paginate(
        TableName=aws["TABLE_NAME"], ConsistentRead=True)
    stored = [s for page in pages for item in page["Items"] for s in every_string(item)]

    # THEN only the hashes are there
    assert not [s for s in stored for raw in raw_tokens if raw in s]
    assert {f"TOKEN#{token_hash(raw)}" for raw in raw_tokens} <= set(stored)
    # and the services still work from them
    identity.verify_email(deps, deps.mailer.last_token("ada@example.com", "/verify/"))
    assert deps.store.get_user(deps.store.user_id_for_email("ada@example.com")).email_verified


def test_transactions_reuse_one_aws_client(aws, monkeypatch):
    # Building a client parses botocore's model files: ~0.2 s that no request should pay twice.
    import botocore.session

    store = DynamoStore()
    new_account(store, "acc_warm")  # the first transaction and read may build their clients
    account = store.get_account("acc_warm")
    built = []
    original = botocore.session.Session.create_client

    def counting(self, *args, **kwargs):
        built.append(args[0] if args else kwargs.get("service_name"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    updated = store.update_account(account, {"name": "Again"}, event("acc_warm", 1))
    store.close_account(updated, event("acc_warm", 2, "account.closed"))

    assert built == []


@pytest.fixture
def moto_server():
    """A moto server on loopback with the table on it. Clients are truly concurrent; the server answers one
    request at a time, as DynamoDB applies each one atomically (moto's backends are not thread-safe)."""
    from chalicelib.adapters import dynamo_models
    from scripts.moto_server import SerialMotoServer

    server = SerialMotoServer(port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        dynamo_models.create_table("latchkey-race", "us-east-1", f"http://{host}:{port}")
        yield
    finally:
        dynamo_models.bind("latchkey", "us-east-1", None)  # no later test may talk to this server
        server.stop()


def test_twenty_concurrent_signups_with_one_email_create_one_user(moto_server):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = DynamoStore()
    start = threading.Barrier(20)

    def create(n: int) -> str:
        start.wait()
        try:
            store.create_user(user(n, "race@example.com"))
        except UserExists:
            return "exists"
        return "created"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(create, range(20)))

    assert sorted(outcomes) == ["created"] + ["exists"] * 19
    winner = f"usr_{outcomes.index('created')}"
    assert store.user_id_for_email("race@example.com") == winner
    assert list(store.get_users([f"usr_{n}" for n in range(20)])) == [winner]
