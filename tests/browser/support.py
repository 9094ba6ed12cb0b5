"""People and invitations on the stack, made through the API as a person's client would."""
from __future__ import annotations

import uuid

import requests

OWNER_PASSWORD = "owner password"


def owner_with_invitation(stack, role="collaborator", expires_in_days=30, invitee=None, message=None,
                          account_name=None):
    """An owner (Olive Owner) with a personal account who invites `invitee` (a new address by default)."""
    tag = uuid.uuid4().hex[:8]
    owner_email, invitee = f"owner-{tag}@example.com", invitee or f"friend-{tag}@example.com"
    requests.post(f"{stack}/auth/signup", json={"email": owner_email, "password": OWNER_PASSWORD,
                                                "first_name": "Olive", "last_name": "Owner"})
    link = requests.get(f"{stack}/_dev/outbox", params={"to": owner_email}).json()["items"][0]["links"][0]
    requests.post(f"{stack}/auth/verify-email", json={"token": link.rsplit("/", 1)[1]})
    token = requests.post(f"{stack}/auth/login", json={"email": owner_email, "password": OWNER_PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    account = requests.post(f"{stack}/accounts", json={"name": account_name or f"Budget {tag}", "type": "personal"},
                            headers=auth).json()
    body = {"email": invitee, "role": role, "expires_in_days": expires_in_days}
    if message is not None:
        body["message"] = message
    r = requests.post(f"{stack}/accounts/{account['account_id']}/invitations", json=body, headers=auth)
    assert r.status_code == 201, r.text
    account["owner_email"] = owner_email
    return account, invitee, auth


def verified_user(stack, kind, password="my own password"):
    """Someone who already has a Latchkey login (signed up and verified)."""
    invitee = f"{kind}-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(f"{stack}/auth/signup", json={"email": invitee, "password": password,
                                                "first_name": "Eve", "last_name": "Existing"})
    link = requests.get(f"{stack}/_dev/outbox", params={"to": invitee}).json()["items"][0]["links"][0]
    requests.post(f"{stack}/auth/verify-email", json={"token": link.rsplit("/", 1)[1]})
    return invitee


def mails_to(stack, email) -> list[dict]:
    return requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"]


def invitation_link(stack, email) -> str:
    return next(m for m in mails_to(stack, email) if any("/i/" in link for link in m["links"]))["links"][0]


def open_mail_link(page, stack, email):
    """Open the local mail page and click the invitation link, as a person would."""
    page.goto(f"{stack}/_dev/mail?to={email}")
    page.click("a.button")
    page.wait_for_url("**/i/**")
