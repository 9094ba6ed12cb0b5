"""The invitation landing page as a person sees it, at desktop and phone widths: the inviter's words quoted as
theirs, what the role may do, "forgot password?", a next step after accepting, and one request for the page."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
import requests

from chalicelib.domain.permissions import ACCOUNT_GRANTS
from chalicelib.domain.role_summaries import ACCOUNT_CAPABILITIES
from tests.browser.conftest import horizontal_overflow, screenshot, violations
from tests.browser.support import invitation_link, mails_to, open_mail_link, owner_with_invitation, verified_user
from tests.stack import APP_URL

pytestmark = pytest.mark.browser

HOSTILE = 'Hi!\n<script>window.__owned = 1</script><img src=x onerror="window.__owned = 2">\nSee you at https://evil.example'


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}


def test_the_page_is_one_request_its_inline_style_and_script_allowed_by_their_hashes(page, stack):
    _, invitee, _ = owner_with_invitation(stack)
    link = invitation_link(stack, invitee)
    # GIVEN the page as the server sends it
    r = requests.get(link)
    csp = _directives(r.headers["Content-Security-Policy"])
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    # THEN its policy allows exactly its inline blocks, by hash, and nothing inline by a blanket rule
    assert len(styles) == 1 and len(scripts) == 1
    assert csp["style-src"] == [_sha256(styles[0])]
    assert csp["script-src"] == [_sha256(scripts[0])]
    assert csp["default-src"] == ["'none'"] and "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert not re.search(r"<(link|script)[^>]+(src|href)=", r.text)  # nothing else to fetch
    # WHEN a browser opens the link
    page.goto(link)
    page.wait_for_load_state("networkidle")
    # THEN it made exactly one request, and its policy refused nothing
    assert page.requested_urls == [link]
    assert violations(page) == []
    # AND the style applied and the script runs (declining asks first, which only the script does)
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "640px"
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#decline")
    assert asked and page.is_visible("#invitation") and violations(page) == []


@pytest.mark.parametrize("who", ["newcomer", "known"])
def test_the_page_quotes_the_inviters_message_as_theirs_and_says_what_the_role_may_do(sized_page, stack, who):
    page = sized_page
    invitee = verified_user(stack, "quoted") if who == "known" else None
    account, invitee, _ = owner_with_invitation(stack, invitee=invitee, message=HOSTILE)
    page.goto(invitation_link(stack, invitee))
    screenshot(page, f"landing-{who}-{page.width_name}")
    # THEN the message is shown as written, as text: nothing in it ran or loaded
    quote = page.locator("#inviter-message blockquote")
    assert quote.inner_text() == HOSTILE
    assert page.evaluate("window.__owned") is None
    assert page.locator("#inviter-message img").count() == 0 and page.locator("main script").count() == 0
    assert page.locator("a[href*='evil']").count() == 0
    # AND it is attributed to the inviter, by name and verified address
    attribution = page.inner_text("#inviter-message figcaption")
    assert "Olive Owner" in attribution and account["owner_email"] in attribution and "wrote" in attribution
    # AND one line says what a collaborator may do, as the matrix has it
    role_line = page.inner_text("#role-line")
    assert "\n" not in role_line.strip() and role_line.startswith("As a collaborator you can")
    for phrase, actions in ACCOUNT_CAPABILITIES:
        granted = set(actions) <= ACCOUNT_GRANTS["collaborator"]
        if granted:
            assert phrase in role_line.split(", but not")[0], phrase
    # AND a known person is offered to sign in, with a way back in if they forgot their password
    if who == "known":
        assert page.is_visible("#signin-form") and page.is_visible("a#forgot-password")
    else:
        assert page.is_visible("#activate-form") and page.locator("#forgot-password").count() == 0
    # AND nothing is wider than the screen
    assert horizontal_overflow(page) <= 0
    assert violations(page) == []


def test_after_accepting_with_javascript_the_next_step_is_shown(sized_page, stack):
    page = sized_page
    account, invitee, _ = owner_with_invitation(stack)
    page.goto(invitation_link(stack, invitee))
    page.fill("#first_name", "Nia")
    page.fill("#last_name", "Next")
    page.fill("#password", "next step password")
    page.click("#accept")
    page.wait_for_selector("#joined-account")
    screenshot(page, f"accepted-js-{page.width_name}")
    assert page.is_visible("#next-step")
    assert account["name"] in page.inner_text("#access-line")
    assert invitee in page.inner_text("#next-steps") and "Shared accounts" in page.inner_text("#next-steps")
    assert page.get_attribute("#open-app", "href") == APP_URL and page.is_visible("#open-app")
    assert horizontal_overflow(page) <= 0
    assert violations(page) == []


# without JavaScript ---------------------------------------------------------------------------------------

@pytest.fixture(params=["desktop", "phone"])
def page_without_js(request, browser):
    from tests.browser.conftest import VIEWPORTS

    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORTS[request.param])
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.width_name = request.param
    yield pg
    context.close()


def test_without_javascript_the_page_after_activating_says_what_they_have_and_what_to_do_next(page_without_js, stack):
    page = page_without_js
    account, invitee, _ = owner_with_invitation(stack, message="Welcome aboard")
    open_mail_link(page, stack, invitee)
    page.fill("#first_name", "Noa")
    page.fill("#last_name", "Script")
    page.fill("#password", "no script password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('Welcome to Latchkey')")
    screenshot(page, f"accepted-nojs-{page.width_name}")
    access = page.inner_text("#access-line")
    assert account["name"] in access and "collaborator" in access and "move money" in access
    steps = page.inner_text("#next-steps")
    assert invitee in steps and "the password you just chose" in steps
    assert page.get_attribute("#open-app", "href") == APP_URL
    assert horizontal_overflow(page) <= 0


def test_without_javascript_forgot_password_mails_a_reset_and_leads_back_to_accepting(page_without_js, stack):
    page = page_without_js
    invitee = verified_user(stack, "forgetful", password="the old password")
    account, _, _ = owner_with_invitation(stack, invitee=invitee)
    open_mail_link(page, stack, invitee)
    # WHEN they follow "Forgot password?" and ask for a link (typing nothing: it goes to the invited address)
    page.click("#forgot-password")
    page.wait_for_selector("#forgot-form")
    assert invitee in page.inner_text("main")
    screenshot(page, f"forgot-{page.width_name}")
    page.click("#send-reset")
    page.wait_for_selector("#forgot-sent")
    assert horizontal_overflow(page) <= 0
    # THEN a reset link reaches that address; with it they choose a new password, without JavaScript
    reset = next(m for m in mails_to(stack, invitee) if any("/reset/" in link for link in m["links"]))
    back = page.get_attribute("#back", "href")
    page.goto(reset["links"][0])
    page.fill("#password", "the new password")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Your password is changed')")
    # AND back on the invitation, the new password signs them in and accepts
    page.goto(page.url.split("/reset/")[0] + back)
    page.fill("#password", "the new password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('You now have access')")
    steps = page.inner_text("#next-steps")
    assert invitee in steps and "your usual password" in steps
    assert account["name"] in page.inner_text("#access-line")


def test_every_other_page_behind_a_link_is_one_request_and_fits_the_screen(sized_page, stack):
    page = sized_page
    email = verified_user(stack, "pages")
    requests.post(f"{stack}/auth/password/forgot", json={"email": email})
    reset = next(link for m in mails_to(stack, email) for link in m["links"] if "/reset/" in link)
    fresh = f"verify-{reset.rsplit('/', 1)[1][:8].lower()}@example.com"
    requests.post(f"{stack}/auth/signup", json={"email": fresh, "password": "a fresh password", "first_name": "V",
                                                "last_name": "P"})
    verify = next(link for m in mails_to(stack, fresh) for link in m["links"] if "/verify/" in link)
    for name, url in (("verify", verify), ("reset", reset), ("unknown-link", f"{stack}/i/no-such-link")):
        page.requested_urls.clear()
        page.goto(url)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"page-{name}-{page.width_name}")
        assert page.requested_urls == [url], name
        assert page.is_visible("h1") and horizontal_overflow(page) <= 0, name
        assert violations(page) == [], name
