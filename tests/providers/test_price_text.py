"""Prices as the pages write them: per 1000 and per unit, in the reader's language; in a
currency without decimals, selling prices per 1000 are whole units."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from providers.markup import Markup, customer_rate, selling_rate
from providers.views import price_texts
from tests.factories import ServiceFactory


@pytest.mark.parametrize(
    ("language", "currency", "price", "unit"),
    [
        ("vi", "VND", "12.500 ₫ / 1000", "12,5 ₫ mỗi lượt"),
        ("en", "VND", "12,500 ₫ / 1000", "12.5 ₫ per unit"),
        ("en", "USD", "12,500.00 USD / 1000", "12.50 USD per unit"),
    ],
)
def test_price_texts_per_1000_and_per_unit(
    settings: Any, language: str, currency: str, price: str, unit: str
) -> None:
    settings.PANEL_CURRENCY = currency

    with translation.override(language):
        texts = price_texts(Decimal(12500), is_package=False)

    assert texts == {"price": price, "unit_price": unit}


def test_a_unit_keeps_the_decimals_of_a_cheap_service(settings: Any) -> None:
    settings.PANEL_CURRENCY = "VND"

    with translation.override("vi"):
        texts = price_texts(Decimal(350), is_package=False)

    assert texts["unit_price"] == "0,35 ₫ mỗi lượt"


def test_a_package_has_no_unit_price(settings: Any) -> None:
    settings.PANEL_CURRENCY = "VND"

    with translation.override("vi"):
        texts = price_texts(Decimal(50000), is_package=True)

    assert texts == {"price": "50.000 ₫ / gói", "unit_price": ""}


def test_vnd_selling_prices_are_whole_dong_rounded_up(settings: Any) -> None:
    settings.PANEL_CURRENCY = "VND"
    markup = Markup(percent=Decimal(25), fixed=Decimal(0))

    rate = selling_rate(
        upstream_rate=Decimal("0.4321"), exchange_rate=Decimal(25000), markup=markup
    )

    assert rate == Decimal(13504)  # 13503.125, never sold below the markup
    assert customer_rate(rate=rate, discount_percent=Decimal(3)) == Decimal(13099)


def test_usd_selling_prices_keep_their_fine_digits(settings: Any) -> None:
    settings.PANEL_CURRENCY = "USD"
    markup = Markup(percent=Decimal(25), fixed=Decimal(0))

    assert selling_rate(
        upstream_rate=Decimal("0.4321"), exchange_rate=Decimal(1), markup=markup
    ) == Decimal("0.540125")


@pytest.mark.parametrize(
    ("language", "price", "unit"),
    [("vi", "12.500 ₫ / 1000", "12,5 ₫ mỗi lượt"), ("en", "12,500 ₫ / 1000", "12.5 ₫ per unit")],
)
def test_services_page_and_order_form_show_both_prices(
    client: Client, customer: User, settings: Any, language: str, price: str, unit: str
) -> None:
    settings.PANEL_CURRENCY = "VND"
    service = ServiceFactory(rate=Decimal(12500))
    customer.language = language
    customer.save(update_fields=["language"])
    client.force_login(customer)

    services = client.get(reverse("services")).content.decode()
    form = client.get(reverse("order_new"), {"service": service.pk}).content.decode()
    options = client.get(reverse("order_service_options"), {"category": service.category_id}).json()

    assert unit in services
    assert price in form and unit in form
    assert (options["services"][0]["price"], options["services"][0]["unit_price"]) == (price, unit)
