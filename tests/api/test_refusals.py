"""A caller who may not act learns nothing: 403 before the body is validated and before the object named in the
path is looked up, and refusals repeated by one member do not flood the account's audit."""
from __future__ import annotations

import pytest

from tests.api import support
from tests.api.support import assert_error, audit_items, signed_up_member, unique_email

stack, api = support.stack, support.api


@pytest.fixture
def account(api):
    """An owner's business account with a pending admin invitation, and a collaborator (who may invite guests
    only) and a guest (who may invite nobody)."""
    owner, account_id = api.user_with_account(unique_email("owner"), type_="business", name="Acme")
    admin_inv = api.post(f"/accounts/{account_id}/invitations", {"email": unique_email("admin"), "role": "admin"},
                         token=owner)
    assert admin_inv.status_code == 201
    return {"owner": owner, "id": account_id, "admin_invitation": admin_inv.json["invitation_id"],
            "collaborator": signed_up_member(api, account_id, unique_email("collab"), "collaborator"),
            "guest": signed_up_member(api, account_id, unique_email("guest"), "guest")}


def test_inviting_a_role_one_may_not_invite_is_403_whatever_the_body(api, account):
    path = f"/accounts/{account['id']}/invitations"
    for body in ({"email": "not-an-email", "role": "admin"}, {"email": "a@example.com", "role": "admin"},
                 {"email": "a@example.com", "role": "admin", "unknown": 1}, {"role": "admin"}):
        assert_error(api.post(path, body, token=account["collaborator"]), 403, "forbidden")
    # a role they may invite gets the body checked as usual
    assert_error(api.post(path, {"email": "not-an-email", "role": "guest"}, token=account["collaborator"]), 400,
                 "validation_error")


def test_changing_a_field_group_one_may_not_change_is_403_before_the_body_is_checked(api, account):
    r = api.patch(f"/accounts/{account['id']}", {"owner_info": {"phone": 42, "shoe_size": 9}},
                  token=account["collaborator"])
    assert_error(r, 403, "forbidden")


def test_invitation_ids_cannot_be_probed_by_someone_who_may_not_act_on_them(api, account):
    base = f"/accounts/{account['id']}/invitations"
    existing = api.delete(f"{base}/{account['admin_invitation']}", token=account["collaborator"])
    missing = api.delete(f"{base}/inv_01J00000000000000000000000", token=account["collaborator"])
    assert (existing.status_code, existing.json) == (missing.status_code, missing.json) == (403, existing.json)
    resent_existing = api.post(f"{base}/{account['admin_invitation']}/resend", token=account["collaborator"])
    resent_missing = api.post(f"{base}/inv_01J00000000000000000000000/resend", token=account["collaborator"])
    assert (resent_existing.status_code, resent_existing.json) == (resent_missing.status_code, resent_missing.json)
    # the owner, who may act on every invitation, is told what is missing
    assert_error(api.delete(f"{base}/inv_01J00000000000000000000000", token=account["owner"]), 404, "not_found")


def test_member_ids_cannot_be_probed_by_someone_who_may_not_remove_members(api, account):
    owner_id = api.get("/me", token=account["owner"]).json["user"]["user_id"]
    existing = api.delete(f"/accounts/{account['id']}/members/{owner_id}", token=account["guest"])
    missing = api.delete(f"/accounts/{account['id']}/members/usr_01J00000000000000000000000", token=account["guest"])
    assert (existing.status_code, existing.json) == (missing.status_code, missing.json)


def test_a_guest_hammering_refused_routes_does_not_push_the_owners_events_off_the_first_page(api, account):
    # GIVEN the owner's own recent events
    before = [e["action"] for e in api.get(f"/accounts/{account['id']}/audit?limit=20",
                                           token=account["owner"]).json["items"]]
    # WHEN a guest is refused 100 times in a row
    for n in range(100):
        r = api.post(f"/accounts/{account['id']}/invitations", {"email": f"x{n}@example.com", "role": "admin"},
                     token=account["guest"])
        assert r.status_code == 403
    # THEN one refusal is recorded per minute (the hundred may straddle two), and the owner's events are
    # still on the first page
    events = audit_items(api, account["id"], account["owner"])
    denied = [e["action"] for e in events].count("access.denied")
    assert 1 <= denied <= 2
    first_page = [e["action"] for e in api.get(f"/accounts/{account['id']}/audit?limit=20",
                                               token=account["owner"]).json["items"]]
    assert first_page[denied:] == before
    # AND a minute later a new refusal is recorded again
    api.post("/_dev/clock", {"advance_seconds": 61})
    api.post(f"/accounts/{account['id']}/invitations", {"email": "y@example.com", "role": "admin"},
             token=account["guest"])
    assert [e["action"] for e in audit_items(api, account["id"], account["owner"])].count("access.denied") == denied + 1


# a closed account ------------------------------------------------------------------------------------------

def test_closing_an_account_withdraws_its_pending_links_and_its_members_can_leave_it(api):
    from tests.conftest import token_from

    # GIVEN an account with a pending invitation and a collaborator
    owner, account_id = api.user_with_account(unique_email("closer"), type_="business", name="Closing Ltd")
    invited = unique_email("pending")
    assert api.post(f"/accounts/{account_id}/invitations", {"email": invited, "role": "authorized_user"},
                    token=owner).status_code == 201
    link = token_from(api.last_link(invited, "/i/"))
    collaborator = signed_up_member(api, account_id, unique_email("stays"), "collaborator")
    # WHEN the owner closes it
    assert api.delete(f"/accounts/{account_id}", token=owner).status_code == 204
    # THEN the link no longer invites, and the withdrawal is audited
    assert api.get(f"/invitations/{link}").json["status"] == "revoked"
    assert "Create your free account" not in api.get(f"/i/{link}").body.decode()
    events = audit_items(api, account_id, owner)
    revoked = [e for e in events if e["action"] == "invitation.revoked"]
    assert len(revoked) == 1 and revoked[0]["details"]["reason"] == "account_closed"
    # AND the collaborator can leave it, so it drops out of their /me; the last owner stays
    assert api.delete(f"/accounts/{account_id}/members/me", token=collaborator).status_code == 204
    assert api.get("/me", token=collaborator).json["accounts"] == []
    assert_error(api.delete(f"/accounts/{account_id}/members/me", token=owner), 409, "last_owner")
