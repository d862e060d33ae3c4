"""A real browser for the tests that need one: the system Chromium driven by Playwright.

Without a Chromium (PANEL_TEST_CHROMIUM, /usr/bin/chromium by default) or without Playwright,
the browser tests are skipped with a message saying how to get them; nothing else is. CI
installs Chromium first (`make browser`, run by .ci/run).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PANEL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A browser for one test. Never longer: Playwright's sync API runs an event loop in the
    test's thread, and while it runs Django takes every ORM call for an async one."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests skipped: no Chromium at {CHROMIUM} "
            "(`make browser` installs Debian's chromium; PANEL_TEST_CHROMIUM names another)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: Playwright is not installed (`make install`)")
    # The ORM calls a test makes between two browser steps are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
