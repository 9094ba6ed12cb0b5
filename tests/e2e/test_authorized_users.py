"""Authorized users over HTTP against the local stack: an owner, two employees and a platform reviewer."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e
REVIEWER = "reviewer@latchkey.example"  # the stack's PLATFORM_REVIEWER_EMAILS (tests/stack.py)
DETAILS = {"legal_first_name": "Sam", "legal_last_name": "Lee", "date_of_birth": "1985-02-03", "phone": "+14155550123",
           "title": "Office manager", "address": {"line1": "9 Elm St", "city": "Austin", "region": "TX",
                                                  "postal_code": "78701", "country": "US"}}


def _login(stack, email, password="a good password"):
    requests.post(f"{stack}/auth/signup", json={"email": email, "password": password, "first_name": "Pat",
                                                "last_name": "Person"})
    page = requests.get(f"{stack}/_dev/mail", params={"to": email}).text
    verify = re.search(r'href="([^"]+/verify/[^"]+)"', page)
    if verify:
        requests.post(verify.group(1), data={"confirm": "yes"})
    r = requests.post(f"{stack}/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _employee(stack, base, owner, email):
    assert requests.post(f"{base}/invitations", json={"email": email, "role": "authorized_user"},
                         headers=owner).status_code == 201
    link = requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"][0]["links"][0]
    r = requests.post(f"{stack}/invitations/{link.rsplit('/', 1)[1]}/activate", json={"password": "employee pass"})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers, requests.get(f"{stack}/me", headers=headers).json()["user"]["user_id"]


def test_two_employees_apply_one_is_approved_one_rejected_and_an_admin_takes_the_free_place(stack):
    tag = uuid.uuid4().hex[:8]
    owner = _login(stack, f"boss-{tag}@example.com")
    reviewer = _login(stack, REVIEWER)
    account = requests.post(f"{stack}/accounts", json={"name": "Corner Shop", "type": "business"}, headers=owner).json()
    base = f"{stack}/accounts/{account['account_id']}"
    ann, ann_id = _employee(stack, base, owner, f"ann-{tag}@example.com")
    ben, ben_id = _employee(stack, base, owner, f"ben-{tag}@example.com")
    third = requests.post(f"{base}/invitations", json={"email": f"cy-{tag}@example.com", "role": "authorized_user"},
                          headers=owner)
    assert third.status_code == 409 and third.json()["error"]["code"] == "authorized_user_limit"

    for who in (ann, ben):
        assert requests.put(f"{base}/members/me/application", json=DETAILS, headers=who).status_code == 200
        assert requests.post(f"{base}/members/me/application/submit", headers=who).json()["status"] == "in_review"
        assert requests.get(f"{base}/members/me/application", headers=who).json()["status"] == "in_review"

    queue = requests.get(f"{stack}/reviews/applications", headers=reviewer).json()["items"]
    assert {ann_id, ben_id} <= {e["user_id"] for e in queue}
    assert requests.get(f"{stack}/reviews/applications", headers=owner).status_code == 403
    approved = requests.post(f"{stack}/reviews/applications/{account['account_id']}/{ann_id}/approve",
                             headers=reviewer)
    assert approved.json()["member_status"] == "active"
    assert requests.get(f"{base}/permissions/money.withdraw", headers=ann).json()["allowed"] is True
    # the approved one can neither touch the owner's details, nor remove the other authorized user or the owner
    owner_id = requests.get(f"{stack}/me", headers=owner).json()["user"]["user_id"]
    assert requests.patch(base, json={"owner_info": {"phone": "+15550000"}}, headers=ann).status_code == 403
    assert requests.delete(f"{base}/members/{ben_id}", headers=ann).status_code == 403
    assert requests.delete(f"{base}/members/{owner_id}", headers=ann).status_code == 403
    rejected = requests.post(f"{stack}/reviews/applications/{account['account_id']}/{ben_id}/reject",
                             json={"reason": "Please apply with your legal name."}, headers=reviewer)
    assert rejected.json()["role"] == "admin"

    # the rejected admin is upgraded into the free place and applies again
    up = requests.patch(f"{base}/members/{ben_id}", json={"role": "authorized_user"}, headers=owner)
    assert up.status_code == 200 and up.json()["status"] == "application_required"
    assert requests.put(f"{base}/members/me/application", json=DETAILS, headers=ben).status_code == 200
    # the owner removes the approved one: the place frees up
    assert requests.delete(f"{base}/members/{ann_id}", headers=owner).status_code == 204
    assert requests.post(f"{base}/invitations", json={"email": f"dee-{tag}@example.com", "role": "authorized_user"},
                         headers=owner).status_code == 201
