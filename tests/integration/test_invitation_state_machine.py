"""A stateful property test on the table (moto in process): invite, accept, decline, revoke, resend, remove,
leave, upgrade and downgrade, apply, approve and reject, time passing and the sweep in any order, checking
the access invariants after every step."""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib.adapters.dynamo import connection, keys
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain import scopes
from chalicelib.services import access, accounts, applications, members
from chalicelib.services.invitations import expiry, invitee, inviter
from chalicelib.services.tokens import token_hash
from tests.fakes import REGION, make_deps, table_items
from tests.services.support import on_account, person, signed_in, user_of

NAMES = ("ann", "bob", "cat", "dan")
ROLES = ("collaborator", "guest", "admin", "authorized_user")
_tables = itertools.count(1)


class AccessMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        connection.create_table(f"machine-{next(_tables)}", REGION)  # an empty table per example
        self.deps = make_deps()
        self.owner = person(self.deps, "owner")
        self.people = {name: person(self.deps, name) for name in NAMES}
        self.emails = {name: user_of(self.deps, p).email for name, p in self.people.items()}
        self.account, _ = accounts.create(self.deps, signed_in(self.deps, self.owner), "Bakery", "business")
        self.removed: set[str] = set()
        self.reviewer = person(self.deps, "rev")
        self.deps.settings = replace(self.deps.settings,
                                     reviewer_emails=frozenset({user_of(self.deps, self.reviewer).email}))

    def _ctx(self, principal, action="account.view"):
        return on_account(self.deps, principal, self.account.account_id, action)

    def _invitations(self):
        return self.deps.store.invitations.list("account", self.account.account_id, None, self.deps.clock.now(),
                                                200, None).items

    def _members(self):
        return self.deps.store.accounts.list_members(self.account.account_id, None, 200, None).items

    def _token_of(self, inv):
        for link in reversed(self.deps.mailer.links(inv.email, "/i/")):
            raw = link.rsplit("/", 1)[1]
            if token_hash(raw) == inv.token_hash:
                return raw
        return None

    @rule(name=st.sampled_from(NAMES), role=st.sampled_from(ROLES), days=st.integers(1, 5))
    def invite(self, name, role, days):
        try:
            inviter.create(self.deps, self._ctx(self.owner, "collaborators.invite"),
                           {"email": self.emails[name], "role": role, "expires_in_days": days})
        except DomainError:
            pass

    @precondition(lambda self: self._invitations())
    @rule(data=st.data(), how=st.sampled_from(["accept", "decline", "revoke", "resend"]))
    def act_on_invitation(self, data, how):
        inv = data.draw(st.sampled_from(sorted(self._invitations(), key=lambda i: i.invitation_id)))
        raw = self._token_of(inv)
        name = next(n for n, e in self.emails.items() if e == inv.email)
        try:
            if how == "accept" and raw:
                invitee.accept(self.deps, signed_in(self.deps, self.people[name]), raw)
                self.removed.discard(name)
            elif how == "decline" and raw:
                invitee.decline(self.deps, raw, None)
            elif how == "revoke":
                inviter.revoke(self.deps, self._ctx(self.owner, "collaborators.invite"), inv.invitation_id)
            elif how == "resend":
                inviter.resend(self.deps, self._ctx(self.owner, "collaborators.invite"), inv.invitation_id)
        except DomainError:
            pass

    @rule(name=st.sampled_from(NAMES), leave=st.booleans())
    def remove(self, name, leave):
        try:
            if leave:
                members.remove(self.deps, self._ctx(self.people[name]), "me")
            else:
                members.remove(self.deps, self._ctx(self.owner), self.people[name].user_id)
            self.removed.add(name)
        except DomainError:
            pass

    @rule(name=st.sampled_from(NAMES), up=st.booleans())
    def change_role(self, name, up):
        try:
            members.change_role(self.deps, self._ctx(self.owner, "authorized_users.add"), self.people[name].user_id,
                                "authorized_user" if up else "admin")
        except DomainError:
            pass

    @rule(name=st.sampled_from(NAMES))
    def apply(self, name):
        details = {"legal_first_name": "L", "legal_last_name": "N", "date_of_birth": "1980-05-05",
                   "phone": "+15555550100", "title": "T", "address": {"line1": "1", "city": "c", "region": "r",
                                                                     "postal_code": "p", "country": "US"}}
        try:
            applications.save_draft(self.deps, self._ctx(self.people[name]), details)
            applications.submit(self.deps, self._ctx(self.people[name]))
        except DomainError:
            pass

    @rule(name=st.sampled_from(NAMES), approve=st.booleans())
    def review(self, name, approve):
        ctx = access.authorize(self.deps, scopes.REVIEWER, self.reviewer, {})
        try:
            if approve:
                applications.approve(self.deps, ctx, self.account.account_id, self.people[name].user_id)
            else:
                applications.reject(self.deps, ctx, self.account.account_id, self.people[name].user_id, "no")
        except DomainError:
            pass

    @rule(hours=st.integers(1, 96))
    def time_passes(self, hours):
        self.deps.clock.advance(timedelta(hours=hours).total_seconds())

    @rule()
    def sweep_runs(self):
        expiry.sweep(self.deps)

    # invariants: read the account once per step, then check everything against that read ----------
    @invariant()
    def the_access_invariants_hold(self):
        self.members_, self.invitations_ = self._members(), self._invitations()
        self.exactly_one_owner()
        self.authorized_user_slots_are_counted_and_never_exceed_two()
        self.each_email_has_one_seat_held_by_its_pending_invitation_or_its_membership()
        self.nobody_has_authorized_user_rights_without_an_approved_application()
        self.removed_people_are_refused_at_once()
        self.every_member_came_through_an_accepted_invitation()

    def exactly_one_owner(self):
        owners = [m for m in self.members_ if m.role == "owner"]
        assert [m.user_id for m in owners] == [self.owner.user_id]
        assert self.deps.store.accounts.get(self.account.account_id).owner_ids == [self.owner.user_id]

    def authorized_user_slots_are_counted_and_never_exceed_two(self):
        held = sum(1 for m in self.members_ if m.role == "authorized_user") + sum(
            1 for i in self.invitations_ if i.role == "authorized_user" and i.status == "pending")
        assert self.deps.store.accounts.get(self.account.account_id).authorized_user_slots == held
        now = self.deps.clock.now()
        live = sum(1 for m in self.members_ if m.role == "authorized_user") + sum(
            1 for i in self.invitations_ if i.holds_authorized_user_slot(now))
        assert live <= 2

    def each_email_has_one_seat_held_by_its_pending_invitation_or_its_membership(self):
        pending = [i for i in self.invitations_ if i.status == "pending"]
        assert len({i.email for i in pending}) == len(pending)
        parent = keys.account_pk(self.account.account_id)
        seats = {i["sk"]["S"][len(keys.SEAT):]: i for i in table_items("seat") if i["pk"]["S"] == parent}
        expected = {i.email: ("invited", i.invitation_id) for i in pending}
        expected.update({m.email: ("member", m.user_id) for m in self.members_})
        held = {email: (s["state"]["S"], (s.get("invitation_id") or s.get("user_id"))["S"]) for email, s in seats.items()}
        assert held == expected

    def nobody_has_authorized_user_rights_without_an_approved_application(self):
        for m in self.members_:
            if m.role == "owner":
                continue
            app = self.deps.store.applications.get(self.account.account_id, m.user_id)
            if m.role == "authorized_user" and m.status == "active":
                assert app is not None and app.status == "approved", (m, app)
            if m.role == "authorized_user" and m.status == "in_review":
                assert app is not None and app.status == "in_review"
            if m.role == "authorized_user" and m.status == "application_required":
                assert app is None or app.status == "draft", (m, app)  # they can always (re)start it
            if m.role != "authorized_user":
                assert app is None or (app.status == "rejected" and not app.details), (m, app)

    def removed_people_are_refused_at_once(self):
        for name in self.removed:
            try:
                self._ctx(self.people[name])
            except NotFound:
                continue
            raise AssertionError(f"{name} was removed but still has access")

    def every_member_came_through_an_accepted_invitation(self):
        accepted = {(i.email, i.role) for i in self.invitations_ if i.status == "accepted"}
        for m in self.members_:
            if m.role != "owner":  # upgrades and downgrades move between admin and authorized user only
                assert (m.email, m.role) in accepted or (m.role in ("admin", "authorized_user") and {
                    (m.email, "admin"), (m.email, "authorized_user")} & accepted)


def test_the_access_invariants_hold_whatever_the_order(table):
    from hypothesis.stateful import run_state_machine_as_test

    # No shrinking: on moto it takes minutes; a failure prints the steps that led to it.
    run_state_machine_as_test(AccessMachine, settings=settings(
        max_examples=15, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
