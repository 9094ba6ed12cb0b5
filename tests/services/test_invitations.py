"""The invitation use cases on the table: both sides of the link flow, for an account and for partner staff."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import errors
from chalicelib.services import accounts, members, partners
from chalicelib.services.invitations import expiry, invitee, inviter
from tests.services.support import enrol, on_account, on_partner, person, signed_in, user_of


@pytest.fixture
def world(deps):
    owner = person(deps, "owner")
    account, _ = accounts.create(deps, signed_in(deps, owner), "Bakery", "business")
    return owner, account, on_account(deps, owner, account.account_id, "collaborators.invite")


def invite(deps, ctx, email, role="collaborator", **extra):
    return inviter.create(deps, ctx, {"email": email, "role": role, **extra})


def link(deps, email):
    return deps.mailer.last_token(email, "/i/")


def newcomer(deps, name):
    """A verified user whose address we invite next."""
    principal = person(deps, name)
    return principal, user_of(deps, principal).email


def test_create_then_accept_makes_a_member_and_clears_the_pending_state(deps, world):
    owner, account, ctx = world
    friend, email = newcomer(deps, "friend")
    inv = invite(deps, ctx, email.upper())
    assert [i.invitation_id for i in invitee.pending_for(deps, email)] == [inv.invitation_id]

    _, membership = invitee.accept(deps, signed_in(deps, friend), link(deps, email))

    assert (membership.role, membership.status) == ("collaborator", "active")
    assert deps.store.accounts.get_member(account.account_id, friend.user_id).role == "collaborator"
    assert invitee.pending_for(deps, email) == []
    assert deps.store.invitations.get("account", account.account_id, inv.invitation_id).status == "accepted"
    with pytest.raises(errors.AlreadyMember):  # a new invitation to a member is refused
        invite(deps, ctx, email, "guest")
    [told] = deps.mailer.to(user_of(deps, owner).email)
    assert told.subject == f"{email} accepted your invitation on Latchkey"


def test_a_second_pending_invitation_is_refused_until_the_first_is_closed(deps, world):
    _, _, ctx = world
    first = invite(deps, ctx, "x@example.com", "guest")
    with pytest.raises(errors.InvitationPending):
        invite(deps, ctx, "x@example.com")
    inviter.revoke(deps, ctx, first.invitation_id)
    assert invite(deps, ctx, "x@example.com").status == "pending"


def test_an_expired_but_unswept_invitation_does_not_block_inviting_that_email_again(deps, world):
    owner, account, ctx = world
    old = invite(deps, ctx, "late@example.com", expires_in_days=1)
    deps.clock.advance(timedelta(days=2).total_seconds())

    again = invite(deps, ctx, "late@example.com", "guest")

    assert again.status == "pending" and again.invitation_id != old.invitation_id
    assert deps.store.invitations.get("account", account.account_id, old.invitation_id).status == "expired"


def test_invitations_that_fail_use_none_of_the_daily_quota(deps, world):
    from dataclasses import replace

    _, _, ctx = world
    deps.settings = replace(deps.settings, invites_per_inviter_per_day=3)
    invite(deps, ctx, "held@example.com")
    for _ in range(5):
        with pytest.raises(errors.InvitationPending):
            invite(deps, ctx, "held@example.com")
    invite(deps, ctx, "second@example.com")
    invite(deps, ctx, "third@example.com")
    with pytest.raises(errors.RateLimited) as limited:
        invite(deps, ctx, "fourth@example.com")
    assert 0 < limited.value.retry_after <= 86400
    assert deps.mailer.to("fourth@example.com") == []


def test_lists_are_newest_first_with_real_ids(deps, world):
    _, account, ctx = world
    made = [invite(deps, ctx, f"n{n}@example.com").invitation_id for n in range(5)]
    listed = [i.invitation_id for i in inviter.list_page(deps, ctx, None, 10, None).items]
    assert listed == made[::-1]


def test_accepting_an_authorized_user_invitation_keeps_its_slot_and_starts_the_application(deps, world):
    owner, account, ctx = world
    au, email = newcomer(deps, "au")
    invite(deps, ctx, email, "authorized_user")
    _, membership = invitee.accept(deps, signed_in(deps, au), link(deps, email))
    assert membership.status == "application_required"
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 1
    members.remove(deps, on_account(deps, owner, account.account_id), au.user_id)
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 0


def test_decline_and_revoke_free_the_authorized_user_slot(deps, world):
    _, account, ctx = world
    a = invite(deps, ctx, "a@example.com", "authorized_user")
    invite(deps, ctx, "b@example.com", "authorized_user")
    with pytest.raises(errors.AuthorizedUserLimit):
        invite(deps, ctx, "c@example.com", "authorized_user")
    invitee.decline(deps, link(deps, "b@example.com"), None)
    inviter.revoke(deps, ctx, a.invitation_id)
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 0
    invite(deps, ctx, "c@example.com", "authorized_user")


def test_an_expired_authorized_user_invitation_gives_its_slot_up_before_the_sweep(deps, world):
    _, account, ctx = world
    for name in ("a", "b"):
        invite(deps, ctx, f"{name}@example.com", "authorized_user", expires_in_days=1)
    deps.clock.advance(timedelta(days=2).total_seconds())
    invite(deps, ctx, "c@example.com", "authorized_user")
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 1


def test_the_sweep_expires_due_invitations_once_and_leaves_others(deps, world):
    _, account, ctx = world
    soon = invite(deps, ctx, "soon@example.com", "authorized_user", expires_in_days=1)
    later = invite(deps, ctx, "later@example.com", "guest", expires_in_days=10)
    deps.clock.advance(timedelta(days=2).total_seconds())
    first = expiry.sweep(deps)
    assert first["expired"] >= 1 and first["failed"] == 0  # other tests' due invitations share the table
    assert expiry.sweep(deps) == {"expired": 0, "skipped": 0, "failed": 0}
    assert deps.store.invitations.get("account", account.account_id, soon.invitation_id).status == "expired"
    assert deps.store.invitations.get("account", account.account_id, later.invitation_id).status == "pending"
    assert deps.store.accounts.get(account.account_id).authorized_user_slots == 0
    with pytest.raises(errors.InvitationExpired):
        invitee.decline(deps, link(deps, "soon@example.com"), None)


def test_one_failing_item_does_not_stop_the_sweep_and_the_next_run_finishes(deps, world, monkeypatch):
    _, account, ctx = world
    invs = [invite(deps, ctx, f"s{n}@example.com", "guest", expires_in_days=1) for n in range(4)]
    broken, real_close = invs[1].invitation_id, deps.store.invitations.close

    def flaky_close(tx, inv, *args, **kwargs):
        if inv.invitation_id == broken:
            raise RuntimeError("the table is having a bad day")
        return real_close(tx, inv, *args, **kwargs)

    monkeypatch.setattr(deps.store.invitations, "close", flaky_close)
    deps.clock.advance(timedelta(days=2).total_seconds())
    assert expiry.sweep(deps)["failed"] == 1
    statuses = {i.invitation_id: deps.store.invitations.get("account", account.account_id, i.invitation_id).status
                for i in invs}
    assert statuses.pop(broken) == "pending" and set(statuses.values()) == {"expired"}
    monkeypatch.setattr(deps.store.invitations, "close", real_close)
    assert expiry.sweep(deps)["failed"] == 0
    assert deps.store.invitations.get("account", account.account_id, broken).status == "expired"


def test_a_sweep_without_time_left_does_nothing(deps, world):
    _, _, ctx = world
    invite(deps, ctx, "t@example.com", "guest", expires_in_days=1)
    deps.clock.advance(timedelta(days=2).total_seconds())
    assert expiry.sweep(deps, time_budget_seconds=0) == {"expired": 0, "skipped": 0, "failed": 0}


def test_resend_of_a_swept_invitation_revives_it_with_a_new_link(deps, world):
    _, _, ctx = world
    inv = invite(deps, ctx, "r@example.com", expires_in_days=1)
    old = link(deps, "r@example.com")
    deps.clock.advance(timedelta(days=2).total_seconds())
    expiry.sweep(deps)
    again = inviter.resend(deps, ctx, inv.invitation_id)
    assert again.status == "pending" and again.send_count == 2
    new = link(deps, "r@example.com")
    assert new != old
    with pytest.raises(errors.NotFound):
        invitee.lookup(deps, old, None)
    assert invitee.lookup(deps, new, None).effective_status(deps.clock.now()) == "pending"


def test_activate_creates_the_user_and_the_membership_in_one_go(deps, world):
    _, account, ctx = world
    invite(deps, ctx, "new@example.com", "guest", first_name="Nia")
    tokens, inv = invitee.activate(deps, link(deps, "new@example.com"), "a new password", None, "Nwosu", "203.0.113.9")
    user_id = deps.store.users.id_for_email("new@example.com")
    user = deps.store.users.get(user_id)
    assert (user.first_name, user.last_name, user.email_verified) == ("Nia", "Nwosu", True)
    assert user.last_login_at == deps.clock.now() and tokens.access_token
    assert deps.store.accounts.get_member(account.account_id, user_id).role == "guest"


def test_an_activation_for_a_taken_email_creates_no_user_anywhere(deps, world):
    _, account, ctx = world
    _, email = newcomer(deps, "taken")
    invite(deps, ctx, email, "guest")
    pool_before = set(deps.identity.users)
    with pytest.raises(errors.UserExists):
        invitee.activate(deps, link(deps, email), "a new password", None, None, None)
    assert set(deps.identity.users) == pool_before
    assert invitee.lookup(deps, link(deps, email), None).status == "pending"


def test_the_last_owner_cannot_leave_and_removal_needs_the_matrix_permission(deps, world):
    owner, account, ctx = world
    guest, email = newcomer(deps, "guest")
    invite(deps, ctx, email, "guest")
    invitee.accept(deps, signed_in(deps, guest), link(deps, email))
    guest_ctx = on_account(deps, guest, account.account_id)
    with pytest.raises(errors.Forbidden):
        members.remove(deps, guest_ctx, owner.user_id)
    with pytest.raises(errors.LastOwner):
        members.remove(deps, on_account(deps, owner, account.account_id), "me")
    members.remove(deps, guest_ctx, "me")
    with pytest.raises(errors.NotFound):
        on_account(deps, guest, account.account_id)


# the same link flow for a partner's staff --------------------------------------------------------

@pytest.fixture
def firm(deps):
    admin = person(deps, "petra", totp=True)
    partner, _ = partners.create(deps, signed_in(deps, admin), "Ledger & Co")
    return partner, admin, on_partner(deps, admin, partner.partner_id, "staff.manage")


def test_a_staff_invitation_is_accepted_through_the_same_link_and_writes_a_staff_role(deps, firm):
    partner, _, ctx = firm
    staffer, email = newcomer(deps, "sven")
    inv = invite(deps, ctx, email, "staff")
    assert (inv.target_type, inv.partner_id, inv.account_id) == ("partner", partner.partner_id, None)
    mail = deps.mailer.to(email)[-1]
    assert "Ledger & Co" in mail.text and "staff member" in mail.text

    _, joined = invitee.accept(deps, signed_in(deps, staffer), link(deps, email))

    assert joined.role == "staff"
    enrol(deps, staffer)  # the staff role requires an authenticator app before the firm lets them in
    assert on_partner(deps, staffer, partner.partner_id, "clients.view").staff.role == "staff"
    assert user_of(deps, staffer).partner_roles == {partner.partner_id: "staff"}
    _, staff_roles, _ = deps.store.things_of_email(email)
    assert [s.partner_id for s in staff_roles] == [partner.partner_id]


def test_staff_invitations_resend_revoke_decline_and_expire_like_account_ones(deps, firm):
    partner, _, ctx = firm
    a = invite(deps, ctx, "a@firm.example", "staff")
    deps.clock.advance(61)
    inviter.resend(deps, ctx, a.invitation_id)
    inviter.revoke(deps, ctx, a.invitation_id)
    invite(deps, ctx, "b@firm.example", "partner_admin")
    invitee.decline(deps, link(deps, "b@firm.example"), None)
    invite(deps, ctx, "c@firm.example", "staff", expires_in_days=1)
    deps.clock.advance(timedelta(days=2).total_seconds())
    statuses = {i.email: i.effective_status(deps.clock.now())
                for i in inviter.list_page(deps, ctx, None, 10, None).items}
    assert statuses == {"a@firm.example": "revoked", "b@firm.example": "declined", "c@firm.example": "expired"}


def test_a_new_person_activates_a_partner_admin_invitation(deps, firm):
    partner, _, ctx = firm
    invite(deps, ctx, "second.admin@firm.example", "partner_admin")
    _, inv = invitee.activate(deps, link(deps, "second.admin@firm.example"), "a new password", "Sam", "Second", None)
    assert inv.partner_id == partner.partner_id
    assert deps.store.partners.get(partner.partner_id).admin_count == 2


def test_staff_cannot_invite_staff(deps, firm):
    partner, _, ctx = firm
    staffer, email = newcomer(deps, "sven")
    invite(deps, ctx, email, "staff")
    invitee.accept(deps, signed_in(deps, staffer), link(deps, email))
    enrol(deps, staffer)
    with pytest.raises(errors.Forbidden) as refused:
        on_partner(deps, staffer, partner.partner_id, "staff.manage")
    assert refused.value.code == "forbidden"


# mail abuse -------------------------------------------------------------------------------------------------

def test_resends_count_and_one_address_gets_a_bounded_number_of_invitation_mails_a_day(deps, world):
    # GIVEN an invitation, resent every 61 seconds (the cooldown) by an inviter with quota to spare
    _, _, ctx = world
    cap = deps.settings.invitation_mails_per_recipient_per_day
    inv = invite(deps, ctx, "victim@example.com")
    refused = 0
    for _ in range(20):
        deps.clock.advance(61)
        try:
            inviter.resend(deps, ctx, inv.invitation_id)
        except errors.RateLimited:
            refused += 1
    # THEN the address got at most the day's cap of mails, and the rest were refused with 429
    assert len(deps.mailer.to("victim@example.com")) == cap and refused == 20 - (cap - 1)


def test_the_cap_per_recipient_holds_across_accounts(deps, world):
    _, _, ctx = world
    cap = deps.settings.invitation_mails_per_recipient_per_day
    for n in range(cap):  # as many different accounts (and inviters) as the day's cap
        other = person(deps, f"owner{n}")
        account, _ = accounts.create(deps, signed_in(deps, other), f"Shop {n}", "business")
        invite(deps, on_account(deps, other, account.account_id, "collaborators.invite"), "popular@example.com")
    with pytest.raises(errors.RateLimited):
        invite(deps, ctx, "popular@example.com")
    assert len(deps.mailer.to("popular@example.com")) == cap


def test_one_user_creates_a_bounded_number_of_accounts_a_day(deps):
    maker = person(deps, "maker")
    for n in range(deps.settings.accounts_per_user_per_day):
        accounts.create(deps, signed_in(deps, maker), f"Account {n}", "personal")
    with pytest.raises(errors.RateLimited):
        accounts.create(deps, signed_in(deps, maker), "One too many", "personal")
    with pytest.raises(errors.RateLimited):
        partners.create(deps, signed_in(deps, maker), "A firm too many")
    deps.clock.advance(86400)
    accounts.create(deps, signed_in(deps, maker), "The next day", "personal")


def test_user_text_stays_out_of_the_subject_is_quoted_as_the_inviters_and_no_link_in_it_is_clickable(deps):
    # GIVEN an inviter whose name, account name and message pretend to be the bank, with links
    mallory = person(deps, "mallory")
    user = user_of(deps, mallory)
    tx = deps.store.transaction()
    deps.store.users.update_profile(tx, user.user_id, {"first_name": "Latchkey Security", "last_name": "Team"})
    tx.commit()
    account, _ = accounts.create(deps, signed_in(deps, mallory),
                                 "ACTION REQUIRED - your bank login expires today", "business")
    ctx = on_account(deps, mallory, account.account_id, "collaborators.invite")
    invite(deps, ctx, "target@example.com", message="Log in now at https://evil.example/login or www.evil.example")
    [mail] = deps.mailer.to("target@example.com")
    # THEN the subject names the product and the inviter's verified address only
    assert mail.subject == f"{user.email} invited you to Latchkey"
    # AND the body shows that address and quotes their words as theirs
    assert user.email in mail.text and "written by them, not by Latchkey" in mail.text
    assert "> Log in now at" in mail.text
    # AND no link of theirs is left to click, in either part: the only link is the invitation's
    for body in (mail.text, mail.html):
        assert "https://evil.example" not in body and "www.evil.example" not in body and "evil.example" not in body
    assert mail.html.count("<a ") == 1 and "evil[.]example" in mail.html


def test_the_invitation_mail_speaks_to_someone_with_a_login_as_a_user_and_to_a_newcomer_as_one(deps, world):
    # GIVEN one invitee who already has a login and one who has none
    _, _, ctx = world
    _, known = newcomer(deps, "known")
    invite(deps, ctx, known)
    invite(deps, ctx, "nobody.yet@example.com")
    [to_user] = deps.mailer.to(known)
    [to_newcomer] = deps.mailer.to("nobody.yet@example.com")
    # THEN the user is asked to sign in, never told they have no account; the newcomer is offered one
    for part in (to_user.text, to_user.html):
        assert "Sign in to accept" in part and "No Latchkey account yet?" not in part
    for part in (to_newcomer.text, to_newcomer.html):
        assert "No Latchkey account yet?" in part and "Sign in to accept" not in part
    # AND both get the same subject, and the same line on what the role may do
    assert to_user.subject == to_newcomer.subject
    from chalicelib.domain.role_summaries import summary
    assert summary("account", "collaborator") in to_user.text and summary("account", "collaborator") in to_newcomer.text


def test_a_resent_invitation_speaks_to_whoever_the_address_belongs_to_now(deps, world):
    # GIVEN an invitation to an address that gets a login only after the first mail
    _, _, ctx = world
    email = "late.joiner@example.com"
    inv = invite(deps, ctx, email)
    assert "No Latchkey account yet?" in deps.mailer.to(email)[0].text
    from chalicelib.domain.model import User
    tx = deps.store.transaction()
    deps.store.users.add(tx, User(deps.secrets.new_id("usr"), email, "Late", "Joiner", deps.clock.now(),
                                  email_verified=True))
    tx.commit()
    # WHEN it is resent
    deps.clock.advance(61)
    inviter.resend(deps, ctx, inv.invitation_id)
    # THEN the new mail asks them to sign in
    assert "Sign in to accept" in deps.mailer.to(email)[-1].text
