"""Sharing an account over HTTP against the local stack, as two people would do it."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def _signup_and_login(stack, email, password):
    requests.post(f"{stack}/auth/signup", json={"email": email, "password": password, "first_name": "Olive",
                                                "last_name": "Owner"})
    mail_page = requests.get(f"{stack}/_dev/mail", params={"to": email}).text
    verify = re.search(r'href="([^"]+/verify/[^"]+)"', mail_page).group(1)
    assert requests.post(verify, data={"confirm": "yes"}).status_code == 200
    return requests.post(f"{stack}/auth/login", json={"email": email, "password": password}).json()["access_token"]


def test_invite_follow_the_link_sign_up_there_see_the_shared_account_then_lose_access(stack):
    tag = uuid.uuid4().hex[:8]
    owner_email, friend_email = f"owner-{tag}@example.com", f"friend-{tag}@example.com"
    owner = {"Authorization": f"Bearer {_signup_and_login(stack, owner_email, 'owner password')}"}
    account = requests.post(f"{stack}/accounts", json={"name": "Household", "type": "personal"}, headers=owner).json()
    base = f"{stack}/accounts/{account['account_id']}"
    # the owner invites a collaborator
    r = requests.post(f"{base}/invitations", json={"email": friend_email, "role": "collaborator"}, headers=owner)
    assert r.status_code == 201
    # the friend finds the link on the local mail page; opening it changes nothing
    mail_page = requests.get(f"{stack}/_dev/mail", params={"to": friend_email}).text
    link = re.search(r'href="([^"]+/i/[^"]+)"', mail_page).group(1)
    assert link.startswith(stack + "/i/")
    landing = requests.get(link)
    assert landing.status_code == 200 and "Create your free account" in landing.text
    token = link.rsplit("/", 1)[1]
    # and signs up from it
    joined = requests.post(f"{stack}/invitations/{token}/activate",
                           json={"password": "friend password", "first_name": "Fran", "last_name": "Friend"})
    assert joined.status_code == 201
    friend = {"Authorization": f"Bearer {joined.json()['access_token']}"}
    me = requests.get(f"{stack}/me", headers=friend).json()
    assert [(a["name"], a["own"], a["role"]) for a in me["accounts"]] == [("Household", False, "collaborator")]
    assert requests.get(base, headers=friend).status_code == 200
    # the owner sees the collaborator, then revokes their access
    listed = requests.get(f"{base}/members", headers=owner).json()["items"]
    friend_id = next(m["user_id"] for m in listed if m["email"] == friend_email)
    assert requests.delete(f"{base}/members/{friend_id}", headers=owner).status_code == 204
    # the very next request is refused, and the friend was told
    refused = requests.get(base, headers=friend)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert requests.get(f"{stack}/me", headers=friend).json()["accounts"] == []
    told = requests.get(f"{stack}/_dev/outbox", params={"to": friend_email}).json()["items"][0]
    assert told["subject"] == "Your access to a shared account on Latchkey has ended" and "Household" in told["text"]
    actions = [e["action"] for e in requests.get(f"{base}/audit", headers=owner).json()["items"]]
    assert actions[:4] == ["member.removed", "member.added", "invitation.accepted", "invitation.created"]
