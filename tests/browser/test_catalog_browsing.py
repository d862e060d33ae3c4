"""Issue 23: browsing as Vietnamese buyers do, in a real browser: platforms first, the price per
1000 and per unit, and a favorite's star sent without leaving the page."""

from decimal import Decimal

import pytest
from django.test import override_settings

from providers.models import FavoriteService
from tests.browser_pages import log_in
from tests.factories import CategoryFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@override_settings(LANGUAGE_CODE="vi", PANEL_CURRENCY="VND")
def test_platforms_prices_and_the_star_on_the_order_form(
    chromium: object, live_server: object
) -> None:
    user = UserFactory(username="lan", funds=Decimal("500000"))
    tiktok = CategoryFactory(name="TikTok Views", name_vi="Tăng view TikTok", platform="tiktok")
    ServiceFactory(category=CategoryFactory(name="Facebook Likes", platform="facebook"))
    service = ServiceFactory(category=tiktok, name="View TikTok nhanh", rate=Decimal(12500))
    base = live_server.url
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, base, "lan")
    page.wait_for_url(f"{base}/dashboard/")

    # the TikTok chip lists TikTok's categories, in the reader's language
    page.goto(f"{base}/orders/new/")
    page.click(".platform-chips a.pf-tiktok")
    page.wait_for_url(f"{base}/orders/new/?platform=tiktok")
    assert page.locator("#category option").all_inner_texts() == ["Tăng view TikTok (1)"]
    rate = page.locator("#service-info dl").inner_text()
    assert "12.500 ₫ / 1000" in rate and "12,5 ₫ mỗi lượt" in rate

    # the estimate repeats both prices
    page.fill("#id_quantity", "2000")
    assert page.locator("#estimate").inner_text() == "25.000 ₫"
    assert "12,5 ₫ mỗi lượt" in page.locator("#estimate-detail").inner_text()

    # the star is sent without leaving the page, and a second press takes it off
    page.click("#favorite-form button")
    page.locator("#favorite-form button[aria-pressed=true]").wait_for()
    assert page.url == f"{base}/orders/new/?platform=tiktok"
    assert FavoriteService.objects.filter(user=user, service=service).exists()
    page.click("#favorite-form button")
    page.locator("#favorite-form button[aria-pressed=false]").wait_for()
    assert not FavoriteService.objects.exists()
