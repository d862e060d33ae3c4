"""Every page in a real browser (headless Chromium), in both languages: the content security
policy blocks nothing, because nothing on the panel's pages needs an exception."""

from typing import Any

import pytest
from django.urls import reverse

from tests.browser_pages import CSP_LISTENER, csp_violations, log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow]
PUBLIC = ("home", "login", "services", "updates", "api_docs", "signup", "password_reset")
CUSTOMER = (
    "dashboard",
    "order_new",
    "order_mass",
    "order_list",
    "account",
    "balance_history",
    "affiliates",
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
    "admin:affiliates_referral_changelist",
    "admin:payments_gatewaysettings_add",
)
ADMIN += ("admin:support_ticket_changelist", "admin:notifications_notification_changelist")


def _visit(page: Any, url: str) -> list[str]:
    console: list[str] = []
    page.on(
        "console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None
    )
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    page.wait_for_timeout(50)
    return console + csp_violations(page)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en-US", "vi-VN"])
def test_no_page_violates_the_content_security_policy(
    live_server: Any, chromium: Any, language: str, settings: Any
) -> None:
    # A bank account, so Add funds shows its VietQR code and the script that watches for money.
    settings.PANEL_BANK_BIN, settings.PANEL_BANK_ACCOUNT = "970436", "0011001800879"
    settings.PANEL_SEPAY_API_KEY, settings.PANEL_VND_RATE = "csp-test-key", "25000"
    UserFactory(username="csp-customer")
    UserFactory(username="csp-admin", is_staff=True, is_superuser=True)
    base = live_server.url
    violations: dict[str, list[str]] = {}

    for who, names in ((None, PUBLIC), ("csp-customer", CUSTOMER), ("csp-admin", ADMIN)):
        context = chromium.new_context(locale=language, viewport={"width": 390, "height": 844})
        # The panel's language is the visitor's choice (the switcher's cookie), not the browser's.
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language[:2], "url": base}]
        )
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        if who:
            log_in(page, base, who)
        for name in names:
            found = _visit(page, f"{base}{reverse(name)}")
            if found:
                violations[name] = found
        context.close()

    assert violations == {}
