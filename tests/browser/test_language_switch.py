"""The language switch in a real browser against a live server: the choice shows at once,
follows the user through login, and fits a phone's top bar."""

from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import User
from tests.browser_pages import log_in
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _log_in(page: object, base: str) -> None:
    log_in(page, base, "lan")
    page.wait_for_url(f"{base}/dashboard/")  # type: ignore[attr-defined]


@override_settings(LANGUAGE_CODE="en")
def test_switching_language_in_the_browser_follows_the_user(
    chromium: object, live_server: object
) -> None:
    # given a customer who never chose a language, on a phone-sized screen
    UserFactory(username="lan", funds=Decimal("1234.5"))
    ServiceFactory(name="Lượt xem video", rate=Decimal("2.5"), min=100, max=100000)
    base = live_server.url
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base}/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "Log in"

    # when they pick Vietnamese on the login page and log in
    page.click(".lang-switch button[value=vi]")
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text() == "Đăng nhập"
    _log_in(page, base)

    # then the dashboard is Vietnamese, money is written the Vietnamese way, and it is saved
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("main h1").inner_text() == "Xin chào, lan"
    assert page.locator(".topbar .balance").inner_text() == "1.234,50 USD"
    assert User.objects.get(username="lan").language == "vi"
    # the top bar with the switch fits the phone: nothing spills sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".lang-switch").is_visible()

    # the order form's script speaks Vietnamese too, and writes money the Vietnamese way
    page.goto(f"{base}/orders/new/")
    page.fill("#id_quantity", "12000")
    assert page.locator("#estimate").inner_text() == "30,00 USD"
    assert page.locator("[data-help-for=quantity]").inner_text() == "Tối thiểu 100 · tối đa 100.000"

    # when they switch back to English on another page
    page.click(".lang-switch button[value=en]")
    page.wait_for_url(f"{base}/orders/new/")
    assert page.locator("main h1").inner_text() == "New order"
    page.fill("#id_quantity", "12000")
    assert page.locator("#estimate").inner_text() == "30.00 USD"
    assert page.locator(".topbar .balance").inner_text() == "1,234.50 USD"
    assert User.objects.get(username="lan").language == "en"
    context.close()

    # and on a new device, logging in brings the saved choice back
    User.objects.filter(username="lan").update(language="vi")
    other = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = other.new_page()
    _log_in(page, base)
    assert page.locator("main h1").inner_text() == "Xin chào, lan"
    other.close()
