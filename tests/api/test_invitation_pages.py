"""The pages behind an invitation link, as HTML: the inviter's words quoted as theirs, the role in one line,
"forgot password?", the next step after accepting, and a policy that allows only the page's own inline blocks."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import re

import pytest

from chalicelib import container
from chalicelib.domain.role_summaries import summary
from tests.api.support import api, stack, unique_email  # noqa: F401  (fixtures)
from tests.conftest import token_from

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HOSTILE = '<script>alert(1)</script> & "quotes" \'too\'\nsecond line'


@pytest.fixture
def owner(api):  # noqa: F811
    email = unique_email("pages-owner")
    token, account_id = api.user_with_account(email, name="Family budget")
    return {"token": token, "account_id": account_id, "email": email}


def _invite(api, owner, email=None, role="collaborator", **extra):  # noqa: F811
    email = email or unique_email("pages-friend")
    r = api.post(f"/accounts/{owner['account_id']}/invitations", {"email": email, "role": role, **extra},
                 token=owner["token"])
    assert r.status_code == 201, r.json
    return email, token_from(api.last_link(email, "/i/"))


def _page(response) -> str:
    assert response.headers["Content-Type"].startswith("text/html")
    return response.body.decode()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_landing_page_quotes_the_message_as_the_inviters_escaped(api, owner):  # noqa: F811
    _, token = _invite(api, owner, message=HOSTILE)
    page = _page(api.get(f"/i/{token}"))
    [quote] = re.findall(r'<figure class="quote" id="inviter-message">(.*?)</figure>', page, re.S)
    [said] = re.findall(r"<blockquote>(.*?)</blockquote>", quote, re.S)
    assert html.unescape(said) == HOSTILE and "<script>" not in said
    assert "Ada Lovelace" in quote and owner["email"] in quote and "wrote" in quote


def test_the_landing_page_without_a_message_quotes_nothing(api, owner):  # noqa: F811
    _, token = _invite(api, owner)
    assert "inviter-message" not in _page(api.get(f"/i/{token}"))


@pytest.mark.parametrize("role", ["collaborator", "admin", "guest", "authorized_user"])
def test_the_landing_page_says_in_one_line_what_the_role_may_do(api, role):  # noqa: F811
    email = unique_email("pages-biz")
    token, account_id = api.user_with_account(email, type_="business", name="Corner shop")
    _, link = _invite(api, {"token": token, "account_id": account_id}, role=role)
    page = _page(api.get(f"/i/{link}"))
    [line] = re.findall(r'<p class="role" id="role-line">(.*?)</p>', page, re.S)
    assert html.unescape(line) == summary("account", role)


def test_a_partner_staff_invitation_says_what_staff_may_do(api):  # noqa: F811
    admin = api.signup_verified(unique_email("pages-firm"))
    partner = api.post("/partners", {"name": "Ledger & Co"}, token=admin).json["partner_id"]
    api.enrol_totp(admin)  # the firm's people have an authenticator app
    email = unique_email("pages-staff")
    assert api.post(f"/partners/{partner}/staff/invitations", {"email": email, "role": "staff", "first_name": "S",
                                                               "last_name": "T"}, token=admin).status_code == 201
    page = _page(api.get(f"/i/{token_from(api.last_link(email, '/i/'))}"))
    [line] = re.findall(r'<p class="role" id="role-line">(.*?)</p>', page, re.S)
    assert html.unescape(line) == summary("partner", "staff")
    # the firm requires an authenticator app: the mail and the next step say so before the firm refuses them
    assert "requires an authenticator app" in api.mails_to(email)[0]["text"]
    assert 'id="app-step"' in page and "authenticator app" in page


def test_an_account_invitation_asks_for_no_authenticator_app(api, owner):  # noqa: F811
    email, token = _invite(api, owner)
    assert "authenticator app" not in api.mails_to(email)[0]["text"]
    assert 'id="app-step"' not in _page(api.get(f"/i/{token}"))


def test_a_known_person_is_offered_forgot_password_and_a_newcomer_is_not(api, owner):  # noqa: F811
    known = unique_email("pages-known")
    api.signup_verified(known)
    _, token = _invite(api, owner, email=known)
    page = _page(api.get(f"/i/{token}"))
    assert 'id="signin-form"' in page and f'href="/i/{token}/forgot"' in page
    _, token = _invite(api, owner)
    page = _page(api.get(f"/i/{token}"))
    assert 'id="activate-form"' in page and "/forgot" not in page


def test_the_page_carries_its_style_and_script_inline_allowed_by_their_hashes_only(api, owner):  # noqa: F811
    _, token = _invite(api, owner)
    r = api.get(f"/i/{token}")
    page = _page(r)
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["Content-Security-Policy"].split(";") if d.strip()}
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    [script] = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert csp["style-src"] == [_sha256(style)] and csp["script-src"] == [_sha256(script)]
    assert csp["default-src"] == ["'none'"] and "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert not re.search(r"<(?:link|script|img)[^>]+(?:src|href)=", page)
    # the other pages carry the style the same way and run no script at all
    other = api.get(f"/i/{token}/forgot")
    policy = {d.split()[0]: d.split()[1:] for d in other.headers["Content-Security-Policy"].split(";") if d.strip()}
    assert policy["style-src"] == [_sha256(style)] and policy["script-src"] == ["'none'"]
    assert "<script" not in _page(other)


def test_forgot_password_from_the_link_mails_a_reset_to_the_invited_address(api, owner):  # noqa: F811
    known = unique_email("pages-forgot")
    api.signup_verified(known)
    _, token = _invite(api, owner, email=known)
    # GET only shows: nothing is sent by opening the page (mail scanners open links)
    shown = api.get(f"/i/{token}/forgot")
    assert shown.status_code == 200 and known in _page(shown) and f'action="/i/{token}/forgot"' in _page(shown)
    assert not any("/reset/" in link for m in api.mails_to(known) for link in m["links"])
    # POST sends the reset link to the invited address, and leads back to the invitation
    sent = api.post(f"/i/{token}/forgot", raw="", headers=FORM)
    assert sent.status_code == 200 and 'id="forgot-sent"' in _page(sent) and f'href="/i/{token}"' in _page(sent)
    assert any("/reset/" in link for m in api.mails_to(known) for link in m["links"])


def test_forgot_password_answers_the_same_for_an_address_without_a_login_and_mails_nothing(api, owner):  # noqa: F811
    email, token = _invite(api, owner)
    sent = api.post(f"/i/{token}/forgot", raw="", headers=FORM)
    assert sent.status_code == 200 and 'id="forgot-sent"' in _page(sent)
    assert not any("/reset/" in link for m in api.mails_to(email) for link in m["links"])


def test_forgot_password_on_a_link_that_is_not_open_says_so(api, owner):  # noqa: F811
    assert api.get("/i/not-a-real-token/forgot").status_code == 404
    assert api.post("/i/not-a-real-token/forgot", raw="", headers=FORM).status_code == 404
    _, token = _invite(api, owner)
    assert api.post(f"/i/{token}/decline", raw="confirm=yes", headers=FORM).status_code == 200
    for method in ("GET", "POST"):
        r = api.call(method, f"/i/{token}/forgot", raw="", headers=FORM)
        assert r.status_code == 410 and "no longer open" in _page(r)


def test_after_activating_without_javascript_the_page_says_what_they_have_and_what_next(api, owner):  # noqa: F811
    email, token = _invite(api, owner, role="collaborator")
    r = api.post(f"/i/{token}/activate", raw="first_name=Fran&last_name=Friend&password=correct+horse+battery",
                 headers=FORM)
    assert r.status_code == 201
    page = _page(r)
    [access] = re.findall(r'<p id="access-line">(.*?)</p>', page, re.S)
    assert "Family budget" in access and html.unescape(access).endswith(summary("account", "collaborator"))
    [steps] = re.findall(r'<ol id="next-steps">(.*?)</ol>', page, re.S)
    assert email in steps and "the password you just chose" in steps and "Shared accounts" in steps
    assert 'id="open-app"' not in page  # no app address is configured here: no link to nowhere


def test_the_next_step_links_to_the_app_where_one_is_configured(api, owner, monkeypatch):  # noqa: F811
    monkeypatch.setitem(container._state, "config",
                        dataclasses.replace(container.config(), app_url="https://app.example.com/start"))
    _, token = _invite(api, owner, role="authorized_user")
    page = _page(api.post(f"/i/{token}/activate", raw="password=correct+horse+battery", headers=FORM))
    assert 'href="https://app.example.com/start"' in page
    # an authorized user's next step is their application
    assert "authorized-user application" in re.findall(r'<ol id="next-steps">(.*?)</ol>', page, re.S)[0]
