"""Every page in a real browser (headless Chromium), in both languages: the content security
policy blocks nothing, because nothing on the panel's pages needs an exception."""

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import UserFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: apt-get install chromium"),
]
# Collects violations in the page itself; init scripts run outside the page's policy.
_LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber));"""
PUBLIC = ("home", "login", "services", "updates", "api_docs", "signup", "password_reset")
CUSTOMER = (
    "dashboard",
    "order_new",
    "order_mass",
    "order_list",
    "account",
    "balance_history",
    "add_funds",
    "deposit_list",
    "two_factor",
)
CUSTOMER += ("ticket_list", "ticket_new")
ADMIN = (
    "admin:index",
    "admin:orders_order_changelist",
    "admin:accounts_user_changelist",
    "admin:payments_unmatcheddeposit_changelist",
    "admin:payments_gatewaysettings_add",
)
ADMIN += ("admin:support_ticket_changelist", "admin:notifications_notification_changelist")


@pytest.fixture
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls around it are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _visit(page: Any, url: str) -> list[str]:
    console: list[str] = []
    page.on(
        "console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None
    )
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    page.wait_for_timeout(50)
    return console + page.evaluate("window.__violations")


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}{reverse('login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("main button[type=submit]")  # the top bar's language switch has buttons too
    page.wait_for_load_state("load")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en-US", "vi-VN"])
def test_no_page_violates_the_content_security_policy(
    live_server: Any, browser: Any, language: str, settings: Any
) -> None:
    # A bank account, so Add funds shows its VietQR code and the script that watches for money.
    settings.PANEL_BANK_BIN, settings.PANEL_BANK_ACCOUNT = "970436", "0011001800879"
    settings.PANEL_SEPAY_API_KEY, settings.PANEL_VND_RATE = "csp-test-key", "25000"
    UserFactory(username="csp-customer")
    UserFactory(username="csp-admin", is_staff=True, is_superuser=True)
    base = live_server.url
    violations: dict[str, list[str]] = {}

    for who, names in ((None, PUBLIC), ("csp-customer", CUSTOMER), ("csp-admin", ADMIN)):
        context = browser.new_context(locale=language, viewport={"width": 390, "height": 844})
        # The panel's language is the visitor's choice (the switcher's cookie), not the browser's.
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language[:2], "url": base}]
        )
        context.add_init_script(_LISTEN)
        page = context.new_page()
        if who:
            _log_in(page, base, who)
        for name in names:
            found = _visit(page, f"{base}{reverse(name)}")
            if found:
                violations[name] = found
        context.close()

    assert violations == {}
