"""A person follows the mailed invitation link in a real browser."""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import horizontal_overflow, violations
from tests.browser.support import open_mail_link as _open_mail_link
from tests.browser.support import owner_with_invitation as _owner_with_invitation
from tests.browser.support import verified_user as _verified_user

pytestmark = pytest.mark.browser


def _verified_user_with_app(stack, kind, password="my own password", codes: list | None = None):
    """Someone with a Latchkey login and an authenticator app: (email, the app's secret); `codes` gets the
    recovery codes they were shown."""
    from tests.totp import fresh_code

    invitee = _verified_user(stack, kind, password)
    token = requests.post(f"{stack}/auth/login", json={"email": invitee, "password": password}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    secret = requests.post(f"{stack}/me/mfa/totp", headers=auth).json()["secret"]
    confirmed = requests.post(f"{stack}/me/mfa/totp/verify", json={"code": fresh_code(secret)}, headers=auth)
    assert confirmed.ok, confirmed.text
    if codes is not None:
        codes.extend(confirmed.json()["recovery_codes"])
    return invitee, secret


def test_a_new_person_sets_a_password_and_lands_signed_in_on_the_shared_account(page, stack):
    account, invitee, _ = _owner_with_invitation(stack)
    _open_mail_link(page, stack, invitee)
    assert "Olive Owner invited you to " + account["name"] in page.inner_text("h1")
    page.fill("#first_name", "Fran")
    page.fill("#last_name", "Friend")
    page.fill("#password", "friend password")
    page.click("#accept")
    page.wait_for_selector("#joined-account")
    assert page.inner_text("#done-title") == "Welcome to Latchkey"
    assert page.inner_text("#managing") == f"You are managing {account['name']} as collaborator."
    assert account["name"] in page.inner_text("#joined-account") and "shared with you" in page.inner_text("#joined-account")
    assert page.csp_errors == []


def test_an_existing_person_signs_in_and_accepts(page, stack):
    invitee = _verified_user(stack, "existing")
    account, _, _ = _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    assert page.input_value("#email") == invitee
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("#joined-account")
    assert page.inner_text("#done-title") == "You now have access"


def test_someone_with_an_authenticator_app_is_asked_for_its_code_and_then_accepts(page, stack):
    from tests.totp import fresh_code, wrong_code

    invitee, secret = _verified_user_with_app(stack, "app")
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("#totp-form:not([hidden])")
    assert page.is_hidden("#signin-form")
    page.fill("#code", wrong_code(secret))
    page.click("#accept-code")
    page.wait_for_selector("#error:not([hidden])")
    assert "not correct" in page.inner_text("#error")
    page.fill("#code", fresh_code(secret, margin=8))
    page.click("#accept-code")
    page.wait_for_selector("#joined-account")
    assert page.inner_text("#done-title") == "You now have access"
    # the wrong code's 400 is the one error in the console: nothing the page's policy blocked
    assert [e for e in page.csp_errors if "status of 400" not in e] == []


def test_a_wrong_password_shows_an_error_and_accepts_nothing(page, stack):
    invitee = _verified_user(stack, "typo")
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "not my password")
    page.click("#accept")
    page.wait_for_selector("#error:not([hidden])")
    assert "not correct" in page.inner_text("#error")


def test_declining_from_the_page(page, stack):
    account, invitee, _ = _owner_with_invitation(stack)
    _open_mail_link(page, stack, invitee)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#decline")
    page.wait_for_selector("#done:not([hidden])")
    assert page.inner_text("#done-title") == "You declined the invitation"
    assert asked and "Decline this invitation?" in asked[0]  # it asked first
    page.reload()
    assert page.inner_text("h1") == "This invitation was declined"
    assert page.locator("form").count() == 0


def test_an_expired_link_says_so_and_offers_no_form(page, stack):
    account, invitee, _ = _owner_with_invitation(stack, expires_in_days=1)
    requests.post(f"{stack}/_dev/clock", json={"advance_seconds": 2 * 86400})
    try:
        _open_mail_link(page, stack, invitee)
        assert page.inner_text("h1") == "This invitation has expired"
        assert "Ask for a new invitation" in page.inner_text("main")
        assert page.locator("form").count() == 0
    finally:
        requests.delete(f"{stack}/_dev/clock")


def test_the_landing_page_sends_strict_headers_and_changes_nothing(stack):
    account, invitee, auth = _owner_with_invitation(stack)
    link = requests.get(f"{stack}/_dev/outbox", params={"to": invitee}).json()["items"][0]["links"][0]
    for _ in range(3):  # mail scanners prefetch links
        r = requests.get(link, headers={"Host": "evil.example"})
        assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert "http" not in r.text.split("<main>")[0].replace('http-equiv', '')  # no third-party assets in the head
    invs = requests.get(f"{stack}/accounts/{account['account_id']}/invitations", headers=auth).json()["items"]
    assert invs[0]["status"] == "pending"


# without JavaScript ---------------------------------------------------------------------------------------

@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    urls: list[str] = []
    pg.on("request", lambda request: urls.append(request.url))
    pg.requested_urls = urls
    yield pg
    context.close()


def test_without_javascript_a_new_person_activates_and_the_password_never_reaches_a_url(page_without_js, stack):
    page = page_without_js
    account, invitee, _ = _owner_with_invitation(stack)
    _open_mail_link(page, stack, invitee)
    assert "JavaScript is off" in page.inner_text("#noscript-note")
    page.fill("#first_name", "Nora")
    page.fill("#last_name", "Noscript")
    page.fill("#password", "no script password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('Welcome to Latchkey')")
    assert account["name"] in page.inner_text("main")
    # the form was posted: no URL the browser asked for holds the password
    assert not any("no+script+password" in u or "no%20script%20password" in u or "password=" in u
                   for u in page.requested_urls)
    assert "password" not in page.url
    # and the new login works
    login = requests.post(f"{stack}/auth/login", json={"email": invitee, "password": "no script password"})
    assert login.status_code == 200


def test_without_javascript_an_existing_person_signs_in_and_accepts_by_post(page_without_js, stack):
    page = page_without_js
    invitee = _verified_user(stack, "nojs")
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('You now have access')")
    assert not any("password" in u for u in page.requested_urls)


def test_someone_who_lost_the_app_gets_in_with_a_recovery_code_on_the_same_page(page, stack):
    codes: list[str] = []
    invitee, _ = _verified_user_with_app(stack, "lost-app", codes=codes)
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("#totp-form:not([hidden])")
    assert page.is_hidden("#recovery-code")  # folded away until asked for
    page.click("#recovery summary")
    page.fill("#recovery-code", "AAAAA-AAAAA")
    page.click("#recover")
    page.wait_for_selector("#error:not([hidden])")
    assert "not valid" in page.inner_text("#error")
    page.fill("#recovery-code", codes[2].lower().replace("-", " "))
    page.click("#recover")
    page.wait_for_selector("#joined-account")
    assert page.inner_text("#done-title") == "You now have access"
    assert horizontal_overflow(page) <= 0
    assert violations(page) == []


def test_without_javascript_someone_with_an_authenticator_app_gives_its_code_on_a_second_page(page_without_js,
                                                                                               stack):
    from tests.totp import fresh_code

    page = page_without_js
    invitee, secret = _verified_user_with_app(stack, "nojs-app")
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('Enter your sign-in code')")
    page.fill("#code", fresh_code(secret, margin=8))
    page.click("#accept")
    page.wait_for_selector("h1:has-text('You now have access')")
    assert not any("password" in u or "code=" in u or "session" in u for u in page.requested_urls)


def test_without_javascript_someone_who_lost_the_app_gets_in_with_a_recovery_code(page_without_js, stack):
    page = page_without_js
    codes: list[str] = []
    invitee, _ = _verified_user_with_app(stack, "nojs-lost-app", codes=codes)
    _owner_with_invitation(stack, invitee=invitee)
    _open_mail_link(page, stack, invitee)
    page.fill("#password", "my own password")
    page.click("#accept")
    page.wait_for_selector("h1:has-text('Enter your sign-in code')")
    page.click("#recovery summary")
    page.fill("#recovery-password", "my own password")
    page.fill("#recovery-code", codes[0].lower())
    page.click("#recover")
    page.wait_for_selector("h1:has-text('You now have access')")
    assert not any("password=" in u or "recovery_code=" in u for u in page.requested_urls)  # posted, not in URLs
    assert horizontal_overflow(page) <= 0


def test_without_javascript_declining_asks_for_confirmation_first(page_without_js, stack):
    page = page_without_js
    account, invitee, auth = _owner_with_invitation(stack)
    _open_mail_link(page, stack, invitee)
    page.click("#decline")
    page.wait_for_selector("#decline-confirm")
    # nothing is declined before the confirmation
    invs = requests.get(f"{stack}/accounts/{account['account_id']}/invitations", headers=auth).json()["items"]
    assert invs[0]["status"] == "pending"
    page.click("#decline-confirm")
    page.wait_for_selector("h1:has-text('You declined the invitation')")
    invs = requests.get(f"{stack}/accounts/{account['account_id']}/invitations", headers=auth).json()["items"]
    assert invs[0]["status"] == "declined"
