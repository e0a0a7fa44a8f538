"""Browser tests: Playwright driving Debian's Chromium, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT

CHROMIUM = os.environ.get("CSF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def _require(path: Path | str, what: str) -> None:
    if Path(path).exists() or shutil.which(str(path)):
        return
    message = f"{what} not found at {path}"
    if os.environ.get("CI"):
        pytest.fail(message + " - CI must install it")
    pytest.skip(message + " (outside CI only; run `bash .ci/run` or install it)")


@pytest.fixture(scope="session")
def browser():
    _require(CHROMIUM, "Chromium")
    _require(AXE, "axe-core")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core; the portal's own CSP is tested elsewhere.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def assert_accessible(page) -> None:
    """Run axe-core on the current page: no serious or critical violations."""
    # A click that navigates returns before the next document exists: wait for it,
    # or the script tag meets a page with no head yet.
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def sign_in(page, base: str, username: str, password: str = "a-long-test-password-1") -> None:
    """Fill in the sign-in page as a person does (the factories' test password by default)."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
