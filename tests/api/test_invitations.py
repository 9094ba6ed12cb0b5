"""Collaborators: invite by email, open the link, accept / decline / activate, resend, revoke, expire, remove."""
from __future__ import annotations

import pytest

from tests.conftest import BASE_URL, token_from


def _advance(api, seconds):
    assert api.post("/_dev/clock", {"advance_seconds": seconds}).status_code == 200


@pytest.fixture
def owner(api):
    token, account_id = api.user_with_account("owner@example.com", name="Family budget")
    return {"token": token, "account_id": account_id}


def invite(api, owner, email="friend@example.com", role="collaborator", **extra):
    r = api.post(f"/accounts/{owner['account_id']}/invitations", {"email": email, "role": role, **extra},
                 token=owner["token"])
    return r


def link_for(api, email):
    return token_from(api.last_link(email, "/i/"))


def test_invitation_is_created_mailed_and_readable_by_link(api, owner):
    # WHEN the owner invites a collaborator
    r = invite(api, owner, email="  Friend@Example.com ", first_name="Fran", message="Let's plan together")
    # THEN the invitation object of the contract comes back
    assert r.status_code == 201
    inv = r.json
    assert inv["email"] == "friend@example.com" and inv["role"] == "collaborator" and inv["status"] == "pending"
    assert inv["delivery_status"] == "sent" and inv["send_count"] == 1 and inv["last_sent_at"]
    assert inv["invited_by"]["user_id"] and inv["invited_by"]["name"] == "Ada Lovelace"
    assert "token" not in str(inv).lower().replace("token_type", "")
    # and the mail says who invites, to what, as what, until when, with the link
    mail = api.mails_to("friend@example.com")[0]
    # a fixed subject: the product and the inviter's verified address, nothing the inviter wrote
    assert mail["subject"] == "owner@example.com invited you to Latchkey"
    assert "Ada Lovelace" in mail["text"] and "Family budget" in mail["text"] and "owner@example.com" in mail["text"]
    link = mail["links"][0]
    assert link.startswith(BASE_URL + "/i/") and link in mail["text"] and link in mail["html"]
    assert "collaborator" in mail["text"] and "expires on" in mail["text"] and "create one" in mail["text"]
    assert "plan together" in mail["text"]
    # the link shows what it invites to, without changing anything
    view = api.get(f"/invitations/{token_from(link)}").json
    assert view == {"account_name": "Family budget", "partner_name": None, "inviter_name": "Ada Lovelace",
                    "role": "collaborator", "email": "friend@example.com", "status": "pending",
                    "expires_at": inv["expires_at"], "existing_user": False}


def test_only_the_hash_of_the_link_token_is_stored(api, owner, aws):
    import boto3

    invite(api, owner)
    raw = link_for(api, "friend@example.com")
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=aws["TABLE_NAME"])["Items"]
    stored = [str(i) for i in items if not i["pk"]["S"].startswith("OUTBOX#")]
    assert not any(raw in s for s in stored)
    import hashlib
    assert any(hashlib.sha256(raw.encode()).hexdigest() in s for s in stored)


def test_a_new_person_activates_from_the_link_and_sees_the_shared_account(api, owner):
    invite(api, owner)
    token = link_for(api, "friend@example.com")
    r = api.post(f"/invitations/{token}/activate", {"password": "friend's password", "first_name": "Fran",
                                                   "last_name": "Friend"})
    assert r.status_code == 201, r.json
    assert r.json["account_id"] == owner["account_id"] and r.json["partner_id"] is None
    me = api.get("/me", token=r.json["access_token"]).json
    assert me["user"]["email"] == "friend@example.com" and me["user"]["first_name"] == "Fran"
    shared = [a for a in me["accounts"] if not a["own"]]
    assert [(a["account_id"], a["name"], a["role"]) for a in shared] == [(owner["account_id"], "Family budget", "collaborator")]
    # the owner sees the collaborator, the invitation is accepted, and it is audited
    members = api.get(f"/accounts/{owner['account_id']}/members", token=owner["token"]).json["items"]
    assert sorted(m["role"] for m in members) == ["collaborator", "owner"]
    inv = api.get(f"/accounts/{owner['account_id']}/invitations", token=owner["token"]).json["items"][0]
    assert inv["status"] == "accepted" and inv["responded_at"]
    actions = [e["action"] for e in api.get(f"/accounts/{owner['account_id']}/audit", token=owner["token"]).json["items"]]
    assert actions[:3] == ["member.added", "invitation.accepted", "invitation.created"]
    # the same link is used up
    again = api.post(f"/invitations/{token}/activate", {"password": "another password"})
    assert again.status_code == 410 and again.json["error"]["code"] == "invitation_accepted"
    # and the new person can log in with the password they chose (their email is verified by the link)
    assert api.post("/auth/login", {"email": "friend@example.com", "password": "friend's password"}).status_code == 200


def test_activate_for_an_email_that_already_has_a_user_is_409_and_creates_nothing(api, owner):
    api.signup_verified("friend@example.com")
    invite(api, owner)
    token = link_for(api, "friend@example.com")
    assert api.get(f"/invitations/{token}").json["existing_user"] is True
    r = api.post(f"/invitations/{token}/activate", {"password": "whatever123"})
    assert r.status_code == 409 and r.json["error"]["code"] == "user_exists"
    assert api.get(f"/invitations/{token}").json["status"] == "pending"


def test_an_existing_user_accepts_while_signed_in(api, owner):
    friend = api.signup_verified("friend@example.com")
    invite(api, owner)
    assert [i["account_name"] for i in api.get("/me", token=friend).json["pending_invitations"]] == ["Family budget"]
    r = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/accept", token=friend)
    assert r.status_code == 200
    assert r.json == {"account_id": owner["account_id"], "partner_id": None, "role": "collaborator", "status": "active"}
    me = api.get("/me", token=friend).json
    assert me["pending_invitations"] == [] and me["accounts"][0]["role"] == "collaborator"
    # full use of the account's data and operations, not its ownership
    perms = api.get(f"/accounts/{owner['account_id']}/permissions", token=friend).json["permissions"]
    assert "money.withdraw" in perms and "account.close" not in perms and "collaborators.invite" not in perms


def test_accepting_as_someone_else_is_email_mismatch_and_the_invitation_stays_usable(api, owner):
    intruder = api.signup_verified("intruder@example.com")
    friend = api.signup_verified("friend@example.com")
    invite(api, owner)
    token = link_for(api, "friend@example.com")
    r = api.post(f"/invitations/{token}/accept", token=intruder)
    assert r.status_code == 403 and r.json["error"]["code"] == "email_mismatch"
    assert api.get(f"/accounts/{owner['account_id']}", token=intruder).status_code == 404
    assert api.post(f"/invitations/{token}/accept", token=friend).status_code == 200


def test_accept_needs_a_signed_in_user(api, owner):
    invite(api, owner)
    r = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/accept")
    assert r.status_code == 401


def test_decline_needs_no_sign_in_and_the_link_then_reads_declined(api, owner):
    invite(api, owner)
    token = link_for(api, "friend@example.com")
    assert api.post(f"/invitations/{token}/decline").json == {"status": "declined"}
    assert api.get(f"/invitations/{token}").json["status"] == "declined"
    r = api.post(f"/invitations/{token}/activate", {"password": "whatever123"})
    assert r.status_code == 410 and r.json["error"]["code"] == "invitation_declined"
    # a new invitation to the same person is possible again
    assert invite(api, owner).status_code == 201


def test_second_pending_invitation_and_existing_member_are_409(api, owner):
    assert invite(api, owner).status_code == 201
    dup = invite(api, owner, email="FRIEND@example.com")
    assert dup.status_code == 409 and dup.json["error"]["code"] == "invitation_pending"
    me_again = invite(api, owner, email="owner@example.com")
    assert me_again.status_code == 409 and me_again.json["error"]["code"] == "already_member"


def test_resend_kills_the_old_link_restarts_expiry_and_has_a_cooldown(api, owner):
    inv = invite(api, owner, expires_in_days=3).json
    old = link_for(api, "friend@example.com")
    path = f"/accounts/{owner['account_id']}/invitations/{inv['invitation_id']}/resend"
    too_soon = api.post(path, token=owner["token"])
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) > 0
    _advance(api, 2 * 86400)
    r = api.post(path, token=owner["token"])
    assert r.status_code == 200 and r.json["send_count"] == 2
    assert r.json["expires_at"] > inv["expires_at"]
    new = link_for(api, "friend@example.com")
    assert new != old
    assert api.get(f"/invitations/{old}").status_code == 404
    assert api.post(f"/invitations/{old}/decline").status_code == 404
    assert api.get(f"/invitations/{new}").json["status"] == "pending"


def test_revoke_kills_the_link_and_only_works_on_pending(api, owner):
    inv = invite(api, owner).json
    token = link_for(api, "friend@example.com")
    path = f"/accounts/{owner['account_id']}/invitations/{inv['invitation_id']}"
    assert api.delete(path, token=owner["token"]).status_code == 204
    assert api.get(f"/invitations/{token}").json["status"] == "revoked"
    r = api.post(f"/invitations/{token}/activate", {"password": "whatever123"})
    assert r.status_code == 410 and r.json["error"]["code"] == "invitation_revoked"
    again = api.delete(path, token=owner["token"])
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_state"


def test_expiry_is_decided_from_expires_at_before_and_after_the_sweep(api, owner):
    inv = invite(api, owner, expires_in_days=1).json
    token = link_for(api, "friend@example.com")
    _advance(api, 86400 + 5)
    # before the sweep: shown, listed and refused as expired
    assert api.get(f"/invitations/{token}").json["status"] == "expired"
    listed = api.get(f"/accounts/{owner['account_id']}/invitations?status=expired", token=owner["token"]).json
    assert [i["invitation_id"] for i in listed["items"]] == [inv["invitation_id"]]
    r = api.post(f"/invitations/{token}/activate", {"password": "whatever123"})
    assert r.status_code == 410 and r.json["error"]["code"] == "invitation_expired"
    # the sweep marks it, once
    first = api.post("/_dev/jobs/expire-invitations").json
    second = api.post("/_dev/jobs/expire-invitations").json
    assert first == {"job": "expire-invitations", "result": {"expired": 1, "skipped": 0, "failed": 0}}
    assert second["result"]["expired"] == 0
    events = api.get(f"/accounts/{owner['account_id']}/audit", token=owner["token"]).json["items"]
    assert events[0]["action"] == "invitation.expired"
    assert events[0]["actor"] == {"user_id": None, "email": None, "system": True}
    # an expired invitation can be resent, which makes it pending again with a new link
    r = api.post(f"/accounts/{owner['account_id']}/invitations/{inv['invitation_id']}/resend", token=owner["token"])
    assert r.status_code == 200 and r.json["status"] == "pending"


def test_scheduled_sweep_runs_through_the_chalice_test_client(client, api, owner):
    invite(api, owner, expires_in_days=1)
    _advance(api, 2 * 86400)
    result = client.lambda_.invoke("expire-invitations", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="us-east-1"))
    assert result.payload == {"expired": 1, "skipped": 0, "failed": 0}


def test_removed_collaborator_is_refused_on_the_next_request_and_told_by_mail(api, owner):
    invite(api, owner)
    friend = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/activate",
                      {"password": "friend's password"}).json
    account = f"/accounts/{owner['account_id']}"
    assert api.get(account, token=friend["access_token"]).status_code == 200
    friend_id = api.get("/me", token=friend["access_token"]).json["user"]["user_id"]
    assert api.delete(f"{account}/members/{friend_id}", token=owner["token"]).status_code == 204
    assert api.get(account, token=friend["access_token"]).status_code == 404
    assert api.get("/me", token=friend["access_token"]).json["accounts"] == []
    assert "has ended" in api.mails_to("friend@example.com")[0]["subject"]
    assert api.get(f"{account}/audit", token=owner["token"]).json["items"][0]["action"] == "member.removed"


def test_a_collaborator_can_leave_but_the_last_owner_cannot(api, owner):
    invite(api, owner)
    friend = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/activate",
                      {"password": "friend's password"}).json["access_token"]
    account = f"/accounts/{owner['account_id']}"
    assert api.delete(f"{account}/members/me", token=friend).status_code == 204
    assert api.get(account, token=friend).status_code == 404
    r = api.delete(f"{account}/members/me", token=owner["token"])
    assert r.status_code == 409 and r.json["error"]["code"] == "last_owner"


def test_a_collaborator_may_not_invite_collaborators_and_the_refusal_is_audited(api, owner):
    invite(api, owner)
    friend = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/activate",
                      {"password": "friend's password"}).json["access_token"]
    r = invite(api, {"account_id": owner["account_id"], "token": friend}, email="third@example.com")
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    # a guest invitation is within a collaborator's rights
    assert invite(api, {"account_id": owner["account_id"], "token": friend}, email="guest@example.com",
                  role="guest").status_code == 201
    actions = [e["action"] for e in api.get(f"/accounts/{owner['account_id']}/audit", token=owner["token"]).json["items"]]
    assert "access.denied" in actions


def test_owner_invitations_only_for_client_accounts(api, owner):
    r = invite(api, owner, role="owner")
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"


def test_at_most_two_authorized_user_invitations_and_expired_ones_free_their_slot(api):
    token, account_id = api.user_with_account("boss@example.com", type_="business", name="Bakery LLC")
    boss = {"token": token, "account_id": account_id}
    first = invite(api, boss, email="au1@example.com", role="authorized_user", expires_in_days=1)
    assert first.status_code == 201
    assert invite(api, boss, email="au2@example.com", role="authorized_user").status_code == 201
    third = invite(api, boss, email="au3@example.com", role="authorized_user")
    assert third.status_code == 409 and third.json["error"]["code"] == "authorized_user_limit"
    _advance(api, 86400 + 5)  # the first one expires; no sweep has run
    assert invite(api, boss, email="au3@example.com", role="authorized_user").status_code == 201


def test_unknown_tokens_are_404_then_rate_limited(api):
    codes = [api.get(f"/invitations/{'x' * 43}{n:02d}").status_code for n in range(31)]
    assert codes[:30] == [404] * 30
    assert codes[30] == 429


def test_invitation_endpoints_validate_their_input(api, owner):
    bad = invite(api, owner, email="not-an-email", role="emperor", expires_in_days=91, surprise=True)
    assert bad.status_code == 400
    assert set(bad.json["error"]["details"]) == {"email", "role", "expires_in_days", "surprise"}
    assert api.get(f"/accounts/{owner['account_id']}/invitations?status=weird", token=owner["token"]).status_code == 400


def test_link_tokens_never_reach_the_logs(api, owner, capsys):
    import json

    # INFO and above, as the service logs in every stage (botocore's DEBUG output would include mail bodies).
    capsys.readouterr()
    invite(api, owner)
    token = link_for(api, "friend@example.com")
    api.get(f"/i/{token}")
    api.get(f"/invitations/{token}")
    api.post(f"/invitations/{token}/activate", {"password": "friend's password"})
    api.post(f"/invitations/{token}/decline")
    api.get(f"/invitations/{token}x")  # an unknown token is logged as a refusal, without the token
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines, "the flow logs something (or this test proves nothing)"
    assert not [line for line in lines if token in json.dumps(line)]


def test_links_use_the_public_base_url_even_with_a_forged_host(api, owner):
    r = api.post(f"/accounts/{owner['account_id']}/invitations", {"email": "friend@example.com", "role": "guest"},
                 token=owner["token"], headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 201
    mail = api.mails_to("friend@example.com")[0]
    assert all(link.startswith(BASE_URL + "/i/") for link in mail["links"])
    assert "evil.example" not in mail["text"] + mail["html"]


def test_invitation_lists_page_with_cursors_and_filter_by_status(api, owner):
    ids = [invite(api, owner, email=f"p{n}@example.com").json["invitation_id"] for n in range(3)]
    api.delete(f"/accounts/{owner['account_id']}/invitations/{ids[0]}", token=owner["token"])
    base = f"/accounts/{owner['account_id']}/invitations"
    first = api.get(f"{base}?limit=2", token=owner["token"]).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"{base}?limit=2&cursor={first['next_cursor']}", token=owner["token"]).json
    seen = [i["invitation_id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 3
    pending = api.get(f"{base}?status=pending", token=owner["token"]).json["items"]
    revoked = api.get(f"{base}?status=revoked", token=owner["token"]).json["items"]
    assert sorted(i["invitation_id"] for i in pending) == sorted(ids[1:])
    assert [i["invitation_id"] for i in revoked] == [ids[0]]


def test_a_signed_in_invitee_accepts_a_pending_invitation_from_me_without_the_link(api, owner):
    friend = api.signup_verified("friend@example.com")
    stranger = api.signup_verified("stranger@example.com")
    inv = invite(api, owner).json
    pending = api.get("/me", token=friend).json["pending_invitations"]
    assert [p["invitation_id"] for p in pending] == [inv["invitation_id"]]
    # someone else cannot use the id: it is not among their invitations
    assert api.post(f"/me/invitations/{inv['invitation_id']}/accept", token=stranger).status_code == 404
    assert api.post(f"/me/invitations/{inv['invitation_id']}/accept").status_code == 401
    r = api.post(f"/me/invitations/{inv['invitation_id']}/accept", token=friend)
    assert r.status_code == 200 and r.json["role"] == "collaborator"
    assert api.get(f"/accounts/{owner['account_id']}", token=friend).status_code == 200
    # the mailed link is used up too
    gone = api.post(f"/invitations/{link_for(api, 'friend@example.com')}/accept", token=friend)
    assert gone.status_code == 410 and gone.json["error"]["code"] == "invitation_accepted"
    assert api.post(f"/me/invitations/{inv['invitation_id']}/accept", token=friend).status_code == 404


def test_a_signed_in_invitee_declines_from_me_and_it_is_audited_with_their_name(api, owner):
    friend = api.signup_verified("friend@example.com")
    inv = invite(api, owner).json
    r = api.post(f"/me/invitations/{inv['invitation_id']}/decline", token=friend)
    assert r.status_code == 200 and r.json == {"status": "declined"}
    assert api.get("/me", token=friend).json["pending_invitations"] == []
    event = api.get(f"/accounts/{owner['account_id']}/audit", token=owner["token"]).json["items"][0]
    assert event["action"] == "invitation.declined" and event["actor"]["email"] == "friend@example.com"


def test_an_expired_pending_invitation_is_not_offered_on_me_and_cannot_be_accepted_by_id(api, owner):
    friend = api.signup_verified("friend@example.com")
    inv = invite(api, owner, expires_in_days=1).json
    _advance(api, 86400 + 5)
    assert api.get("/me", token=friend).json["pending_invitations"] == []
    r = api.post(f"/me/invitations/{inv['invitation_id']}/accept", token=friend)
    assert r.status_code == 410 and r.json["error"]["code"] == "invitation_expired"


def test_the_inviter_is_told_when_the_invitation_is_accepted(api, owner):
    invite(api, owner)
    api.post(f"/invitations/{link_for(api, 'friend@example.com')}/activate",
             {"password": "friend's password", "first_name": "Fran", "last_name": "Friend"})
    told = api.mails_to("owner@example.com")[0]
    assert told["subject"] == "friend@example.com accepted your invitation on Latchkey"
    assert "Fran Friend" in told["text"] and "Family budget" in told["text"]
    assert "friend@example.com" in told["text"] and "collaborator" in told["text"]


def test_your_collaborators_is_the_members_list_filtered_by_role(api, owner):
    invite(api, owner)
    api.post(f"/invitations/{link_for(api, 'friend@example.com')}/activate", {"password": "friend's password"})
    base = f"/accounts/{owner['account_id']}/members"
    collaborators = api.get(f"{base}?role=collaborator", token=owner["token"]).json["items"]
    assert [m["email"] for m in collaborators] == ["friend@example.com"]
    assert [m["email"] for m in api.get(f"{base}?role=owner", token=owner["token"]).json["items"]] == ["owner@example.com"]
    bad = api.get(f"{base}?role=emperor", token=owner["token"])
    assert bad.status_code == 400 and "role" in bad.json["error"]["details"]


def test_user_text_is_escaped_in_the_mail_and_on_the_landing_page(api):
    evil = '<img src=x onerror="alert(1)">'
    token = api.signup_verified("mallory@example.com", first=evil, last="M")
    account = api.post("/accounts", {"name": f"{evil} budget", "type": "personal"}, token=token).json
    r = api.post(f"/accounts/{account['account_id']}/invitations",
                 {"email": "friend@example.com", "role": "collaborator", "message": f"hi {evil}"}, token=token)
    assert r.status_code == 201
    mail = api.mails_to("friend@example.com")[0]
    assert evil not in mail["html"] and "&lt;img" in mail["html"]
    page = api.get(f"/i/{link_for(api, 'friend@example.com')}")
    assert page.status_code == 200
    assert evil not in page.body.decode() and "&lt;img" in page.body.decode()
