"""Real concurrency: threads against a moto server on loopback, through the real store and services."""
from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.adapters.clock import SystemClock, SystemSecrets
from chalicelib.adapters.dynamo import connection
from chalicelib.adapters.dynamo.store import Store
from chalicelib.domain.errors import DomainError
from chalicelib.domain.model import User
from chalicelib.services import accounts
from chalicelib.services.deps import Deps, Settings
from chalicelib.services.invitations import expiry, invitee, inviter
from chalicelib.services.ports import MailMessage
from chalicelib.services.principal import Principal
from tests.services.support import on_account, signed_in


class _Outbox:
    def __init__(self):
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> str:
        self.sent.append(message)
        return f"m{len(self.sent)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server():
    from scripts.moto_server import SerialMotoServer

    port = _free_port()
    server = SerialMotoServer(port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def deps(moto_server, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    table = f"concurrency-{os.getpid()}-{_free_port()}"
    connection.create_table(table, "us-east-1", moto_server)
    yield Deps(store=Store(b"concurrency"), identity=None, mailer=_Outbox(), clock=SystemClock(),
               secrets=SystemSecrets(), settings=Settings(public_base_url="https://latchkey.test"))


def _race(action, threads: int) -> list[str]:
    """Run `action(n)` on `threads` threads at once; "ok" or the domain error's code for each."""
    def attempt(n):
        try:
            action(n)
            return "ok"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(attempt, range(threads)))


def _user(deps, email, with_app: bool = False):
    """A verified user; `with_app`: the profile says an authenticator app is on (partner roles require one)."""
    user = User(deps.secrets.new_id("usr"), email, "F", "L", datetime.now(timezone.utc), email_verified=True)
    tx = deps.store.transaction()
    deps.store.users.add(tx, user)
    tx.commit()
    if with_app:
        tx = deps.store.transaction()
        deps.store.users.set_mfa(tx, user.user_id, True)
        tx.commit()
    return user


def test_twenty_concurrent_accepts_of_one_link_make_exactly_one_membership(deps):
    owner = _user(deps, "owner@example.com")
    friend = _user(deps, "friend@example.com")
    account, _ = accounts.create(deps, signed_in(deps, Principal(owner.user_id)), "Home", "personal")
    ctx = on_account(deps, Principal(owner.user_id), account.account_id, "collaborators.invite")
    inviter.create(deps, ctx, {"email": friend.email, "role": "collaborator"})
    token = deps.mailer.sent[-1].links[0].rsplit("/", 1)[1]
    friend_ctx = signed_in(deps, Principal(friend.user_id, "127.0.0.1"))

    outcomes = _race(lambda _: invitee.accept(deps, friend_ctx, token), 20)

    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"invitation_accepted", "already_member"}
    members = deps.store.accounts.list_members(account.account_id, None, 50, None).items
    assert sorted(m.user_id for m in members) == sorted([owner.user_id, friend.user_id])
    accepted = [e for e in deps.store.audit.list("account", account.account_id, 50, None).items
                if e.action == "invitation.accepted"]
    assert len(accepted) == 1


def test_ten_concurrent_expiries_of_one_invitation_leave_one_outcome(deps):
    owner = _user(deps, "owner2@example.com")
    account, _ = accounts.create(deps, signed_in(deps, Principal(owner.user_id)), "Shop", "personal")
    ctx = on_account(deps, Principal(owner.user_id), account.account_id, "collaborators.invite")
    inv = inviter.create(deps, ctx, {"email": "late@example.com", "role": "collaborator", "expires_in_days": 1})
    from datetime import timedelta

    later = inv.expires_at + timedelta(seconds=1)
    results = []

    def expire(_):
        from copy import deepcopy

        return expiry.expire(deps, deepcopy(inv), later)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(expire, range(10)))
    assert results.count(True) == 1
    fresh = deps.store.invitations.get("account", account.account_id, inv.invitation_id)
    assert fresh.status == "expired"
    expired_events = [e for e in deps.store.audit.list("account", account.account_id, 50, None).items
                      if e.action == "invitation.expired"]
    assert len(expired_events) == 1


def test_concurrent_authorized_user_invitations_never_exceed_two(deps):
    owner = _user(deps, "boss@example.com")
    account, _ = accounts.create(deps, signed_in(deps, Principal(owner.user_id)), "Bakery", "business")
    ctx = on_account(deps, Principal(owner.user_id), account.account_id, "authorized_users.add")

    outcomes = _race(lambda n: inviter.create(
        deps, ctx, {"email": f"au{n}@example.com", "role": "authorized_user"}), 8)
    assert outcomes.count("ok") == 2
    assert set(outcomes) - {"ok"} == {"authorized_user_limit"}
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 2


def test_two_reviewers_deciding_one_application_at_once_give_one_outcome(deps):
    from dataclasses import replace

    from chalicelib.domain import scopes
    from chalicelib.services import access, applications

    owner = _user(deps, "owner3@example.com")
    applicant = _user(deps, "applicant@example.com")
    reviewers = [_user(deps, f"reviewer{n}@example.com") for n in range(2)]
    deps.settings = replace(deps.settings, reviewer_emails=frozenset(r.email for r in reviewers))
    account, _ = accounts.create(deps, signed_in(deps, Principal(owner.user_id)), "Firm", "business")
    ctx = on_account(deps, Principal(owner.user_id), account.account_id, "authorized_users.add")
    inviter.create(deps, ctx, {"email": applicant.email, "role": "authorized_user"})
    invitee.accept(deps, signed_in(deps, Principal(applicant.user_id)), deps.mailer.sent[-1].links[0].rsplit("/", 1)[1])
    mine = on_account(deps, Principal(applicant.user_id), account.account_id)
    applications.save_draft(deps, mine, {"legal_first_name": "A", "legal_last_name": "B", "date_of_birth": "1980-01-01",
                                         "phone": "+15555550100", "title": "CFO",
                                         "address": {"line1": "1", "city": "c", "region": "r", "postal_code": "p",
                                                     "country": "US"}})
    applications.submit(deps, on_account(deps, Principal(applicant.user_id), account.account_id))
    contexts = [access.authorize(deps, scopes.REVIEWER, Principal(r.user_id), {}) for r in reviewers]

    def decide(n):
        if n % 2:
            return applications.reject(deps, contexts[n % 2], account.account_id, applicant.user_id, "no")
        return applications.approve(deps, contexts[n % 2], account.account_id, applicant.user_id)

    outcomes = _race(decide, 6)

    assert outcomes.count("ok") == 1 and set(outcomes) - {"ok"} == {"invalid_state"}
    decided = deps.store.applications.get(account.account_id, applicant.user_id)
    member = deps.store.accounts.get_member(account.account_id, applicant.user_id)
    slots = deps.store.accounts.get(account.account_id).authorized_user_slots
    if decided.status == "approved":
        assert (member.role, member.status, slots) == ("authorized_user", "active", 1)
    else:
        assert (decided.status, member.role, member.status, slots) == ("rejected", "admin", "active", 0)
    events = [e.action for e in deps.store.audit.list("account", account.account_id, 50, None).items]
    assert events.count("application.approved") + events.count("application.rejected") == 1


def test_co_owners_accepting_at_once_both_land_on_the_client_row(deps):
    """Every owner change rewrites the client row under its version: concurrent changes retry, none is lost."""
    from chalicelib.domain import scopes
    from chalicelib.services import access, clients, partners

    admin = _user(deps, "firm-admin@example.com", with_app=True)
    partner, _ = partners.create(deps, signed_in(deps, Principal(admin.user_id)), "Firm")
    firm = access.authorize(deps, scopes.partner("clients.create"), Principal(admin.user_id),
                            {"partner_id": partner.partner_id})
    owners = [_user(deps, f"co-owner{n}@example.com") for n in range(4)]
    client = clients.create(deps, firm, {"name": "Group", "plan": "pro",
                                         "owners": [{"email": o.email} for o in owners]})
    clients.invite_owners(deps, firm, client.client_id, None, None)
    links = {m.to[0]: m.links[0].rsplit("/", 1)[1] for m in deps.mailer.sent if m.links}

    outcomes = _race(lambda n: invitee.accept(deps, signed_in(deps, Principal(owners[n].user_id)),
                                              links[owners[n].email]), 4)

    assert outcomes == ["ok"] * 4
    row = deps.store.clients.get(partner.partner_id, client.client_id)
    assert {o.email: o.status for o in row.owners} == {o.email: "active" for o in owners}
    listed = deps.store.clients.list(partner.partner_id, "status:active", 10, None).items
    assert [c.client_id for c in listed] == [client.client_id]
    assert deps.store.clients.list(partner.partner_id, "status:invited", 10, None).items == []
    assert sorted(deps.store.accounts.get(client.client_id).owner_ids) == sorted(o.user_id for o in owners)


class _CountingPool:
    """A user pool that only counts the passwords it is asked to check (every one is wrong)."""

    def __init__(self):
        import threading

        self.checked = 0
        self._lock = threading.Lock()

    def sign_in(self, user_id, password):
        from chalicelib.domain.errors import InvalidCredentials

        with self._lock:
            self.checked += 1
        raise InvalidCredentials()


def test_thirty_parallel_wrong_passwords_get_at_most_the_limit_checked(deps):
    from chalicelib.services import identity

    # GIVEN a user, and a limit of 10 failures per address and source
    victim = _user(deps, "victim@example.com")
    deps.identity = _CountingPool()
    # WHEN 30 wrong passwords arrive at once from one source
    outcomes = _race(lambda n: identity.login(deps, victim.email, f"guess {n}", "203.0.113.66"), 30)
    # THEN at most 10 reached the user pool; the rest were refused before it, never let through
    limit = deps.settings.login_failures_per_email
    assert deps.identity.checked <= limit
    assert outcomes.count("invalid_credentials") == deps.identity.checked
    assert outcomes.count("rate_limited") == 30 - deps.identity.checked


def test_ninety_parallel_unknown_link_tokens_get_at_most_thirty_answers(deps):
    # GIVEN a limit of 30 unknown links a minute per source
    limit = deps.settings.lookup_misses_per_minute
    # WHEN 90 made-up tokens are looked up at once from one source
    outcomes = _race(lambda n: invitee.lookup(deps, f"made-up-token-{n:04d}-xxxxxxxx", "203.0.113.77"), 90)
    # THEN at most 30 got an answer (404); every other one is 429
    assert len([o for o in outcomes if o != "rate_limited"]) <= limit
    assert set(outcomes) <= {"not_found", "rate_limited"}


class _PoolWithApp:
    """A user pool whose one user has an authenticator app until it is turned off; every password is right."""

    def __init__(self):
        self.app_on = True

    def sign_in(self, user_id, password):
        from chalicelib.services.ports import SignInChallenge, SignInTokens

        return SignInChallenge("session-" + "x" * 20) if self.app_on else SignInTokens(f"access-{user_id}", None, 3600)

    def set_totp(self, user_id, enabled):
        self.app_on = enabled

    def sign_out_everywhere(self, user_id):
        pass


def test_ten_concurrent_uses_of_one_recovery_code_sign_in_once(deps):
    from chalicelib.domain import recovery_codes
    from chalicelib.services import identity

    # GIVEN a user whose app is on, with one recovery code
    user = _user(deps, "lost-phone@example.com")
    code = "ABCDE-FGHIJ"
    tx = deps.store.transaction()
    deps.store.users.set_mfa(tx, user.user_id, True, recovery_digests={recovery_codes.digest(user.user_id, code)})
    tx.commit()
    deps.identity = _PoolWithApp()
    # WHEN ten requests use it at once (an attacker racing the owner, say)
    outcomes = _race(lambda n: identity.login_recovery(deps, user.email, "right", code, f"198.51.100.{n}"), 10)
    # THEN one signs in; every other one is refused (the code used, or no app left to recover from)
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"invalid_mfa_code", "invalid_state"}
    disabled = [e for e in deps.store.audit.list("user", user.user_id, 50, None).items if e.action == "mfa.disabled"]
    assert len(disabled) == 1 and disabled[0].details == {"via": "recovery_code"}
    assert deps.store.users.get(user.user_id).recovery_codes_left == 0
