"""Issue 23: the order form says what is wrong before it is sent: a quantity outside the
service's limits, a charge above the balance (with how much to top up), a link pasted without
its scheme. The server refuses the same; the browser only spares a round trip."""

from decimal import Decimal

import pytest
from django.test import override_settings

from orders.models import Order
from tests.browser_pages import log_in
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@override_settings(LANGUAGE_CODE="vi", PANEL_CURRENCY="USD")
def test_the_order_form_guards_before_it_sends(chromium: object, live_server: object) -> None:
    UserFactory(username="lan", funds=Decimal("10"))
    service = ServiceFactory(name="Lượt xem video", rate=Decimal("2.5"), min=100, max=10000)
    base = live_server.url
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, base, "lan")
    page.wait_for_url(f"{base}/dashboard/")
    page.goto(f"{base}/orders/new/?service={service.pk}")

    # a quantity under the minimum is stopped in the browser, in the reader's language
    page.fill("#id_link", "instagram.com/p/abc")
    page.fill("#id_quantity", "50")
    page.click("form[data-submit-once] button[type=submit]")
    message = page.evaluate("document.getElementById('id_quantity').validationMessage")
    assert message == "Vui lòng nhập số lượng từ 100 đến 10.000."
    assert page.url.endswith(f"/orders/new/?service={service.pk}")

    # a charge above the balance says how much to add, with the way there
    page.fill("#id_quantity", "8000")  # 20,00 USD against 10,00
    shortfall = page.locator("#estimate-shortfall")
    assert shortfall.is_visible()
    assert "nạp thêm 10,00 USD" in shortfall.inner_text()
    assert shortfall.locator("a").get_attribute("href") == "/add-funds/"
    page.click("form[data-submit-once] button[type=submit]")
    assert not Order.objects.exists()

    # within the balance, the bare link gets its scheme and the order goes through
    page.fill("#id_quantity", "4000")
    assert not shortfall.is_visible()
    page.click("form[data-submit-once] button[type=submit]")
    page.wait_for_url(f"{base}/orders/**")
    assert Order.objects.get().link == "https://instagram.com/p/abc"
