"""Quotas count only what happens: failed invitations use none, and an expired invitation blocks nothing."""
from __future__ import annotations

from tests.api import support
from tests.api.support import signed_up_member, unique_email

stack, api = support.stack, support.api


def test_invitations_that_fail_do_not_use_up_the_accounts_daily_quota(api):
    # GIVEN an account whose daily quota is 200 invitations, and two collaborators (who may invite guests)
    owner, account_id = api.user_with_account(unique_email("quota-owner"), type_="business", name="Quota Ltd")
    members = [signed_up_member(api, account_id, unique_email("c"), "collaborator") for _ in range(2)]
    held = unique_email("held")
    base = f"/accounts/{account_id}/invitations"
    assert api.post(base, {"email": held, "role": "guest"}, token=members[0]).status_code == 201
    # WHEN they send 200 invitations that each fail with 409
    for n in range(200):
        r = api.post(base, {"email": held, "role": "guest"}, token=members[n % 2])
        assert r.status_code == 409 and r.json["error"]["code"] == "invitation_pending"
    # THEN the owner's real invitation still goes out
    assert api.post(base, {"email": unique_email("real"), "role": "collaborator"}, token=owner).status_code == 201


def test_an_expired_invitation_does_not_block_inviting_that_email_again_before_the_sweep(api):
    owner, account_id = api.user_with_account(unique_email("expiry-owner"), name="Expiry home")
    base = f"/accounts/{account_id}/invitations"
    email = unique_email("late")
    first = api.post(base, {"email": email, "role": "collaborator", "expires_in_days": 1}, token=owner)
    assert first.status_code == 201
    api.post("/_dev/clock", {"advance_seconds": 2 * 86400})  # past its expiry; the hourly sweep has not run
    again = api.post(base, {"email": email, "role": "collaborator"}, token=owner)
    assert again.status_code == 201, again.json
    assert api.get(f"{base}/{first.json['invitation_id']}", token=owner).json["status"] == "expired"


def test_limit_accepts_only_ascii_digits_over_http(api):
    owner, account_id = api.user_with_account(unique_email("limit-owner"), name="Limit home")
    for raw in ("%2050", "1_0", "%D9%A5%D9%A0", "50%20", "+5"):  # " 50", "1_0", Arabic-Indic 50, "50 ", "+5"
        r = api.get(f"/accounts/{account_id}/audit?limit={raw}", token=owner)
        assert r.status_code == 400 and "limit" in r.json["error"]["details"], raw
    assert api.get(f"/accounts/{account_id}/audit?limit=50", token=owner).status_code == 200
