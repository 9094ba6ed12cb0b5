"""Headless Debian Chromium driven by Playwright, against the stack `make run` starts."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.stack import stack  # noqa: F401

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
# Screenshots are artifacts for a person to look at (build/ is ignored by git); the tests assert on the DOM.
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "build" / "screenshots")

# Every Content-Security-Policy violation of the page, as the browser reports it to the page itself.
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def _page(browser, **options):
    context = browser.new_context(**options)
    context.add_init_script(_RECORD_VIOLATIONS)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    # A page that the stack serves slowly while the other test worker loads the machine is still a page:
    # navigations get longer than the clicks and reads that lead to them.
    pg.set_default_navigation_timeout(30000)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.csp_errors = errors
    urls: list[str] = []
    pg.on("request", lambda request: urls.append(request.url))
    pg.requested_urls = urls
    return context, pg


@pytest.fixture
def page(browser):
    context, pg = _page(browser)
    yield pg
    context.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(request, browser):
    """A page at desktop and at phone width (`page.width_name` says which)."""
    context, pg = _page(browser, viewport=VIEWPORTS[request.param])
    pg.width_name = request.param
    yield pg
    context.close()


def violations(pg) -> list[str]:
    """What the page's policy refused, from the page's own event and from the console (which frames report to)."""
    reported = pg.evaluate("window.__violations || []")
    console = [e for e in pg.csp_errors if "Content Security Policy" in e]
    return reported + console


def horizontal_overflow(pg) -> int:
    """How many CSS pixels the document is wider than the viewport (0: nothing to scroll sideways)."""
    return pg.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth")


def screenshot(pg, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    size = pg.viewport_size
    tall = pg.locator("iframe").count() > 0
    if tall:  # Chromium does not paint frames far below the viewport: make the viewport the whole page meanwhile
        pg.set_viewport_size({"width": size["width"],
                              "height": max(size["height"], pg.evaluate("document.documentElement.scrollHeight"))})
        pg.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    pg.screenshot(path=str(path), full_page=True)
    if tall:
        pg.set_viewport_size(size)
    return path
