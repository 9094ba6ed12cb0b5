"""A stateful property test: invite, accept, decline, revoke, resend, remove, leave, expire in any order,
checking the access invariants after every step (in memory, so thousands of steps run in seconds)."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, Phase, settings
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
    store_factory = None  # None: the in-memory store

    def __init__(self):
        super().__init__()
        self.deps = make_deps(store=self.store_factory() if self.store_factory else None)
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
        return self.deps.store.list_invitations(self.account.account_id, None, self.deps.clock.now(), 200, None).items

    def _members(self):
        return self.deps.store.list_members(self.account.account_id, 200, None).items

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
        owners = [m for m in self._members() if m.role == "owner"]
        assert [m.user_id for m in owners] == [self.owner.user_id]
        assert self.deps.store.get_account(self.account.account_id).owner_ids == [self.owner.user_id]

    @invariant()
    def authorized_user_slots_are_counted_and_never_exceed_two(self):
        members, invs = self._members(), self._invitations()
        held = sum(1 for m in members if m.role == "authorized_user") + sum(
            1 for i in invs if i.role == "authorized_user" and i.status == "pending")
        assert self.deps.store.get_account(self.account.account_id).authorized_user_slots == held
        now = self.deps.clock.now()
        live = sum(1 for m in members if m.role == "authorized_user") + sum(
            1 for i in invs if i.holds_authorized_user_slot(now))
        assert live <= 2

    @invariant()
    def one_pending_invitation_per_email_held_by_its_sentinel(self):
        pending = [i for i in self._invitations() if i.status == "pending"]
        assert len({i.email for i in pending}) == len(pending)
        if hasattr(self.deps.store, "pending"):  # the in-memory store shows its sentinels
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
        accepted = {(i.email, i.role) for i in self._invitations() if i.status == "accepted"}
        for m in self._members():
            if m.role != "owner":
                assert (m.email, m.role) in accepted


AccessMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                                           suppress_health_check=list(HealthCheck))
TestAccessMachine = AccessMachine.TestCase


def test_the_same_invariants_hold_on_dynamodb(aws):
    """The machine again, fewer runs, on the DynamoDB store (moto in process)."""
    from hypothesis.stateful import run_state_machine_as_test

    from chalicelib.adapters.dynamo_models import Item
    from chalicelib.adapters.dynamo_store import DynamoStore

    def fresh_store():
        # one table per example: empty it by recreating
        Item.delete_table()
        Item.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
        return DynamoStore()

    class DynamoMachine(AccessMachine):
        store_factory = staticmethod(fresh_store)

    # No shrinking here: on moto it takes minutes; the in-memory machine above shrinks the same rules.
    run_state_machine_as_test(DynamoMachine, settings=settings(
        max_examples=8, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
