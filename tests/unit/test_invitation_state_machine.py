"""A stateful property test: invite, accept, decline, revoke, resend, remove, leave, expire in any order,
checking the access invariants after every step (in memory, so thousands of steps run in seconds)."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.model import User
from chalicelib.services import accounts, invitations, members, sweep
from chalicelib.services.access import authorize
from chalicelib.services.principal import Principal
from tests.fakes import make_deps

EMAILS = ("a@example.com", "b@example.com", "c@example.com", "d@example.com")
ROLES = ("collaborator", "guest", "admin", "authorized_user")


class AccessMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.deps = make_deps()
        store = self.deps.store
        self.users = {}
        for email in ("owner@example.com", *EMAILS):
            user = User(self.deps.secrets.new_id("usr"), email, "F", "L", self.deps.clock.now(), email_verified=True)
            store.create_user(user)
            self.users[email] = user
        owner = Principal(self.users["owner@example.com"].user_id)
        self.owner = owner
        self.account, _, _ = accounts.create(self.deps, owner, "Bakery", "business")
        self.removed: set[str] = set()

    def _ctx(self, principal, action="account.view"):
        return authorize(self.deps, principal, self.account.account_id, action)

    def _invitations(self):
        return list(self.deps.store.invitations.values())

    def _token_of(self, inv):
        for link in reversed(self.deps.mailer.links(inv.email, "/i/")):
            raw = link.rsplit("/", 1)[1]
            from chalicelib.services.tokens import token_hash
            if token_hash(raw) == inv.token_hash:
                return raw
        return None

    @rule(email=st.sampled_from(EMAILS), role=st.sampled_from(ROLES), days=st.integers(1, 5))
    def invite(self, email, role, days):
        try:
            invitations.create(self.deps, self._ctx(self.owner, "collaborators.invite"),
                               {"email": email, "role": role, "expires_in_days": days})
        except DomainError:
            pass

    @precondition(lambda self: self._invitations())
    @rule(data=st.data(), how=st.sampled_from(["accept", "decline", "revoke", "resend"]))
    def act_on_invitation(self, data, how):
        inv = data.draw(st.sampled_from(sorted(self._invitations(), key=lambda i: i.invitation_id)))
        raw = self._token_of(inv)
        try:
            if how == "accept" and raw:
                invitations.accept(self.deps, Principal(self.users[inv.email].user_id), raw)
                self.removed.discard(inv.email)
            elif how == "decline" and raw:
                invitations.decline(self.deps, raw, None)
            elif how == "revoke":
                invitations.revoke(self.deps, self._ctx(self.owner, "collaborators.invite"), inv.invitation_id)
            elif how == "resend":
                invitations.resend(self.deps, self._ctx(self.owner, "collaborators.invite"), inv.invitation_id)
        except DomainError:
            pass

    @rule(email=st.sampled_from(EMAILS), leave=st.booleans())
    def remove(self, email, leave):
        user = self.users[email]
        try:
            if leave:
                members.remove(self.deps, self._ctx(Principal(user.user_id)), "me")
            else:
                members.remove(self.deps, self._ctx(self.owner), user.user_id)
            self.removed.add(email)
        except DomainError:
            pass

    @rule(hours=st.integers(1, 96))
    def time_passes(self, hours):
        self.deps.clock.advance(timedelta(hours=hours).total_seconds())

    @rule()
    def sweep_runs(self):
        sweep.expire_invitations(self.deps)

    # invariants -----------------------------------------------------------------------------
    @invariant()
    def exactly_one_owner(self):
        owners = [m for (a, _), m in self.deps.store.members.items() if m.role == "owner"]
        assert [m.user_id for m in owners] == [self.owner.user_id]
        assert self.deps.store.accounts[self.account.account_id].owner_ids == [self.owner.user_id]

    @invariant()
    def authorized_user_slots_are_counted_and_never_exceed_two(self):
        store = self.deps.store
        held = sum(1 for m in store.members.values() if m.role == "authorized_user") + sum(
            1 for i in store.invitations.values() if i.role == "authorized_user" and i.status == "pending")
        slots = store.accounts[self.account.account_id].authorized_user_slots
        assert slots == held
        now = self.deps.clock.now()
        live = sum(1 for m in store.members.values() if m.role == "authorized_user") + sum(
            1 for i in store.invitations.values() if i.holds_authorized_user_slot(now))
        assert live <= 2

    @invariant()
    def one_pending_invitation_per_email_held_by_its_sentinel(self):
        pending = [i for i in self.deps.store.invitations.values() if i.status == "pending"]
        assert len({i.email for i in pending}) == len(pending)
        assert {(i.account_id, i.email): i.invitation_id for i in pending} == self.deps.store.pending

    @invariant()
    def removed_people_are_refused_at_once(self):
        for email in self.removed:
            try:
                self._ctx(Principal(self.users[email].user_id))
            except NotFound:
                continue
            raise AssertionError(f"{email} was removed but still has access")

    @invariant()
    def every_member_came_through_an_accepted_invitation_with_that_role(self):
        accepted = {(i.email, i.role) for i in self.deps.store.invitations.values() if i.status == "accepted"}
        for m in self.deps.store.members.values():
            if m.role != "owner":
                assert (m.email, m.role) in accepted


AccessMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                                           suppress_health_check=list(HealthCheck))
TestAccessMachine = AccessMachine.TestCase
