"""Mail as a person reads it: each HTML mail on its own at phone and desktop widths, and the local mail page that
shows every mail's HTML part (sandboxed) and text part."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.browser.conftest import horizontal_overflow, screenshot, violations
from tests.browser.support import mails_to, owner_with_invitation, verified_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mails(stack):
    """One mail of each kind a person gets from a link, by name."""
    known = verified_user(stack, "mailed")
    _, newcomer, _ = owner_with_invitation(stack, message="Could you look after the bills in May?",
                                           account_name="The house on Long Street")
    owner_with_invitation(stack, invitee=known)
    requests.post(f"{stack}/auth/password/forgot", json={"email": known})
    requests.post(f"{stack}/auth/signup", json={"email": known, "password": "someone else's", "first_name": "X",
                                                "last_name": "Y"})
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(f"{stack}/auth/signup", json={"email": fresh, "password": "a fresh password",
                                                "first_name": "Fay", "last_name": "Fresh"})

    def find(email, needle):
        return next(m for m in mails_to(stack, email) if any(needle in link for link in m["links"])
                    and (needle != "/reset/" or "already have" not in m["subject"]))

    return {"invitation-newcomer": find(newcomer, "/i/"), "invitation-known": find(known, "/i/"),
            "verify-email": find(fresh, "/verify/"), "reset-password": find(known, "/reset/"),
            "account-exists": next(m for m in mails_to(stack, known) if "already have" in m["subject"])}


KINDS = ["invitation-newcomer", "invitation-known", "verify-email", "reset-password", "account-exists"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_html_mail_fits_the_screen_with_a_button_and_its_link_written_out(sized_page, mails, kind):
    page, mail = sized_page, mails[kind]
    page.set_content(mail["html"])
    screenshot(page, f"mail-{kind}-{page.width_name}")
    assert page.get_attribute("meta[name=viewport]", "content").startswith("width=device-width")
    # nothing is wider than the screen, not even the link written out in full
    assert horizontal_overflow(page) <= 0
    width = page.evaluate("window.innerWidth")
    link = mail["links"][0]
    button = page.locator(f'a[href="{link}"]')
    assert button.count() == 1 and button.is_visible()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 40  # big enough for a thumb
    written = page.locator(f"span:text-is('{link}')")
    assert written.count() == 1
    box = written.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # the layout keeps a readable measure on a wide screen
    assert page.evaluate("document.querySelector('body > div').getBoundingClientRect().width") <= 560


def test_the_invitation_speaks_to_someone_with_a_login_as_a_user_and_to_a_newcomer_as_one(mails):
    known, newcomer = mails["invitation-known"], mails["invitation-newcomer"]
    for part in ("text", "html"):
        assert "Sign in to accept" in known[part] and "already have a Latchkey login" in known[part]
        assert "No Latchkey account yet?" not in known[part]
        assert "No Latchkey account yet?" in newcomer[part] and "already have a Latchkey login" not in newcomer[part]
    # the subject stays the same for both: the product and the inviter's address
    assert known["subject"].endswith(" invited you to Latchkey") and newcomer["subject"].endswith(" invited you to Latchkey")


def test_the_mail_page_shows_each_mails_html_in_a_sandbox_and_its_text_and_fits_the_screen(sized_page, stack, mails):
    page = sized_page
    to = mails["invitation-known"]["to"][0]
    page.goto(f"{stack}/_dev/mail?to={to}")
    screenshot(page, f"mail-page-{page.width_name}")
    outbox = mails_to(stack, to)
    articles = page.locator("article.mail")
    assert articles.count() == len(outbox) >= 3
    for i, mail in enumerate(outbox):
        article = articles.nth(i)
        assert article.locator("h2").inner_text() == mail["subject"]
        frame_element = article.locator("iframe")
        sandbox = frame_element.get_attribute("sandbox")
        assert sandbox is not None and "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
        assert frame_element.get_attribute("src") is None and frame_element.get_attribute("srcdoc")
        frame = frame_element.element_handle().content_frame()
        # the frame shows the mail's own HTML: its button is there, and no script is
        assert frame.locator(f'a[href="{mail["links"][0]}"]').count() == 1
        assert frame.locator("script").count() == 0
        assert frame.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # and the text part is one click away, as it was sent
        article.locator("summary").click()
        assert article.locator("pre").inner_text().strip() == mail["text"].strip()
    assert horizontal_overflow(page) <= 0
    assert violations(page) == []


def test_a_button_in_a_previewed_mail_opens_its_link_in_the_page(page, stack, mails):
    mail = mails["invitation-newcomer"]
    page.goto(f"{stack}/_dev/mail?to={mail['to'][0]}")
    frame = page.locator("article.mail iframe").first.element_handle().content_frame()
    with page.expect_navigation(url=mail["links"][0]):
        frame.locator(f'a[href="{mail["links"][0]}"]').click()
    assert "invited you to The house on Long Street" in page.inner_text("h1")
    assert "Could you look after the bills in May?" in page.inner_text("#inviter-message")


def test_what_users_wrote_shows_as_text_in_the_previewed_mail(page, stack):
    email = f"odd-{uuid.uuid4().hex[:8]}@example.com"
    name = '<b>Bo</b><script>parent.__owned = 1</script>'
    requests.post(f"{stack}/auth/signup", json={"email": email, "password": "a fresh password",
                                                "first_name": name, "last_name": "Ld"})
    page.goto(f"{stack}/_dev/mail?to={email}")
    frame = page.locator("article.mail iframe").first.element_handle().content_frame()
    assert name in frame.locator("body").inner_text()
    assert frame.locator("b, script").count() == 0
    assert page.evaluate("window.__owned") is None
    assert violations(page) == []
