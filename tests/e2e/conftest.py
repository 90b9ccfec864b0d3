"""Browser tests: the real app served on 127.0.0.1, driven by headless Debian Chromium.

The server runs in a thread of the test process, so it shares the `app` fixture (one run per
database backend), the `world` of users and the frozen `clock`. Each test gets a fresh
browser context (no cookies) from one Chromium per module. Chromium is Debian's
/usr/bin/chromium (scripts/test installs it); if it is missing or cannot start, the tests
fail and say why: they are never skipped.

A step that breaks (a missing button, a server error) fails the test at once; the audit and
translation findings of every page are reported together when the test ends, so one run
shows them all. Screenshots: build/screenshots/<test>/. Only these tests: pytest -m e2e;
all but these: pytest -m "not e2e".
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import helpers
from tests.live_server import LiveServer

CHROMIUM = os.environ.get("HOTLINE_E2E_CHROMIUM", "/usr/bin/chromium")
#: Without the background-networking flags Chromium dials out at start and the closed
#: network refuses it; --no-sandbox because tests run as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
#: Playwright waits this long (ms) for an element or a page before failing the step.
TIMEOUT_MS = 10000


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(f"Playwright for Python is not installed ({err}); install the test extra: "
                    f"pip install -e '.[test]' (scripts/test does).", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; scripts/test installs Debian's package "
                    f"(apt-get install chromium).", pytrace=False)
    pw = sync_playwright().start()
    problem = None
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except PlaywrightError as err:
        # the command line Playwright used is long and says nothing: keep what the browser said
        lines = [line for line in str(err).splitlines() if line.strip() and "<launching>" not in line]
        problem = "\n".join(lines[:20])
    if problem is not None:
        pw.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start under Playwright:\n{problem}", pytrace=False)
    yield chromium
    chromium.close()
    pw.stop()


class Pages:
    """Opens pages in fresh browser contexts and checks, at the end, that nothing broke on the way."""

    def __init__(self, browser, server):
        self.browser = browser
        self.server = server
        self.contexts = []
        self.problems: list[str] = []

    def new(self, *, width: int = 1280, height: int = 800, locale: str = "zh-CN", mobile: bool = False):
        context = self.browser.new_context(
            base_url=self.server.url, viewport={"width": width, "height": height}, locale=locale,
            is_mobile=mobile, has_touch=mobile, device_scale_factor=1)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error on {page.url}: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        return page

    def _console(self, msg):
        # failed loads are reported, with their address, by _response
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {msg.text}")

    def _response(self, response):
        # the browser asks for /favicon.ico by itself; the app has none
        if response.status >= 400 and not response.url.endswith("/favicon.ico") and response.request.resource_type in (
                "stylesheet", "script", "image", "font", "fetch", "xhr"):
            self.problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live_server, world, clock):
    """pages.new(width=375, height=812) -> a Playwright page on the live server, logged out."""
    live_server.errors.clear()
    opened = Pages(browser, live_server)
    helpers.active_server = live_server
    helpers.findings.clear()
    yield opened
    helpers.active_server = None
    opened.close()
    problems = opened.problems + live_server.errors + helpers.findings
    live_server.errors.clear()
    helpers.findings.clear()
    if problems:
        pytest.fail("the pages this test visited have problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(pages):
    """A desktop-sized page (1280x800) in Chinese, the default locale."""
    return pages.new()
