"""A new user's first steps over HTTP against the local stack: sign up, verify from the mail page, log in,
create an account, read /me."""
from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_a_new_user_signs_up_verifies_from_the_mail_page_and_sees_their_account(stack):
    email = "newcomer@example.com"
    # GIVEN a person signs up
    r = requests.post(f"{stack}/auth/signup", json={"email": email, "password": "a good password",
                                                    "first_name": "Nia", "last_name": "Newcomer"})
    assert r.status_code == 202
    # WHEN they open the local mail page and follow the link in their mail
    page = requests.get(f"{stack}/_dev/mail", params={"to": email})
    assert page.status_code == 200 and "Confirm your email address" in page.text
    link = re.search(r'href="(http://127\.0\.0\.1:\d+/verify/[A-Za-z0-9_\-]+)"', page.text).group(1)
    assert link.startswith(stack)
    landing = requests.get(link)
    assert landing.status_code == 200 and landing.headers["Referrer-Policy"] == "no-referrer"
    # the page changes nothing: logging in is still refused until the button is pressed
    assert requests.post(f"{stack}/auth/login", json={"email": email, "password": "a good password"}).status_code == 403
    confirmed = requests.post(link, data={"confirm": "yes"})
    assert confirmed.status_code == 200 and "Your email is confirmed" in confirmed.text
    # THEN they can log in, create an account and see it on /me
    tokens = requests.post(f"{stack}/auth/login", json={"email": email, "password": "a good password"}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    account = requests.post(f"{stack}/accounts", json={"name": "Our home", "type": "personal"}, headers=auth)
    assert account.status_code == 201
    me = requests.get(f"{stack}/me", headers=auth).json()
    assert me["user"]["email"] == email and me["user"]["last_login_at"]
    assert [(a["name"], a["role"], a["own"]) for a in me["accounts"]] == [("Our home", "owner", True)]


def test_a_forged_token_is_refused_over_http(stack):
    # chalice local does not check signatures itself: the app must.
    import jwt

    forged = jwt.encode({"username": "usr_x", "token_use": "access", "client_id": "x", "exp": 9999999999},
                        "secret", algorithm="HS256")
    r = requests.get(f"{stack}/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_dev_clock_moves_and_resets(stack):
    moved = requests.post(f"{stack}/_dev/clock", json={"advance_seconds": 86400}).json()["now"]
    back = requests.delete(f"{stack}/_dev/clock").json()["now"]
    assert moved > back
