"""The price a customer sees and pays is resolved in one place: override, tier or discount, price."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from accounts.models import PricingTier, User
from accounts.services import api_key_create, balance_credit, balance_debit, pricing_tiers_assign
from orders.services import order_place, product_order_place
from providers.models import PriceOverride, Product, Provider, Service, ServiceType
from providers.pricing import customer_pricing
from tests.factories import ServiceFactory, UserFactory

MONEY = Decimal("0.000001")


def _tier(name: str, basis: str, threshold: str, percent: str) -> PricingTier:
    return PricingTier.objects.create(
        name=name, basis=basis, threshold=Decimal(threshold), percent_off=Decimal(percent)
    )


def test_visitors_pay_the_service_price() -> None:
    pricing = customer_pricing(user=AnonymousUser())

    assert pricing.service_rate(service_id=1, rate=Decimal("2.5")) == Decimal("2.5")


def test_override_wins_over_tier_and_discount(customer: User) -> None:
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal(10))
    customer.refresh_from_db()
    overridden, other = ServiceFactory(), ServiceFactory()
    PriceOverride.objects.create(user=customer, service=overridden, rate=Decimal("1.11"))

    pricing = customer_pricing(user=customer)

    assert pricing.service_rate(service_id=overridden.pk, rate=Decimal(5)) == Decimal("1.11")
    assert pricing.service_rate(service_id=other.pk, rate=Decimal(5)) == Decimal("4.5")


def test_the_larger_of_tier_and_personal_discount_applies_never_both(customer: User) -> None:
    tier = _tier("Gold", PricingTier.Basis.DEPOSITS, "50", "15")
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal(10), pricing_tier=tier)
    customer.refresh_from_db()
    assert customer_pricing(user=customer).percent_off == Decimal(15)

    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal(20))
    customer.refresh_from_db()
    assert customer_pricing(user=customer).percent_off == Decimal(20)


def test_tiers_follow_total_deposits_and_spend(db: None) -> None:
    # given
    silver = _tier("Silver", PricingTier.Basis.DEPOSITS, "100", "5")
    gold = _tier("Gold", PricingTier.Basis.DEPOSITS, "500", "10")
    spender = _tier("Spender", PricingTier.Basis.SPEND, "60", "7")
    small = UserFactory(funds=Decimal("99"))
    mid = UserFactory(funds=Decimal("100"))
    big = UserFactory(funds=Decimal("600"))
    buyer = UserFactory(funds=Decimal("80"))
    balance_debit(user_id=buyer.pk, amount=Decimal("70"), memo="charge")
    balance_credit(user_id=buyer.pk, amount=Decimal("5"), kind="refund", memo="refund")
    # when
    moved = pricing_tiers_assign()
    # then
    tiers = dict(User.objects.values_list("pk", "pricing_tier_id"))
    assert tiers[small.pk] is None and tiers[mid.pk] == silver.pk and tiers[big.pk] == gold.pk
    assert tiers[buyer.pk] == spender.pk  # spend 65 ≥ 60 beats no deposit tier (80 < 100)
    assert len(moved) == 3
    assert pricing_tiers_assign() == []  # nothing moves twice
    # A rank the operator disabled lets its holders go to the best they reach now.
    PricingTier.objects.filter(pk=gold.pk).update(is_active=False)
    pricing_tiers_assign(user_ids=[big.pk])
    assert User.objects.get(pk=big.pk).pricing_tier_id == silver.pk


@pytest.fixture
def priced_customer(catalog: Provider) -> tuple[User, Service, Service]:
    """A customer with a tier (15%), a smaller personal discount (10%) and one override."""
    user = UserFactory(username="priced", funds=Decimal("500"))
    tier = _tier("Gold", PricingTier.Basis.DEPOSITS, "100", "15")
    User.objects.filter(pk=user.pk).update(discount_percent=Decimal(10))
    pricing_tiers_assign()
    user.refresh_from_db()
    assert user.pricing_tier == tier
    services = list(Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT)[:2])
    overridden, tiered = services
    # An odd rate, above cost plus the minimum margin (placing refuses less: the margin guard).
    PriceOverride.objects.create(user=user, service=overridden, rate=Decimal("98.765432"))
    return user, overridden, tiered


def test_services_page_order_form_api_and_charge_show_the_same_price(
    priced_customer: tuple[User, Service, Service], client: Client
) -> None:
    user, overridden, tiered = priced_customer
    expected = {
        overridden.pk: Decimal("98.765432"),
        tiered.pk: (tiered.rate * Decimal("0.85")).quantize(MONEY),
    }
    client.force_login(user)
    key = api_key_create(user=user)
    for service in (overridden, tiered):
        # the services page
        page = client.get(reverse("services"), {"q": str(service.pk)})
        rows = [row for group in page.context["groups"] for row in group["services"]]
        page_rate = {row["id"]: Decimal(row["rate"]) for row in rows}[service.pk]
        # the order form (its JSON options and the page itself)
        form = client.get(reverse("order_service_options"), {"category": service.category_id})
        form_rate = {s["id"]: Decimal(s["rate"]) for s in form.json()["services"]}[service.pk]
        new = client.get(reverse("order_new"), {"service": service.pk})
        new_rate = {o["id"]: Decimal(o["rate"]) for o in new.context["options"]}[service.pk]
        # the v2 API
        answer = client.post("/api/v2", {"key": key, "action": "services"})
        api_rates = {s["service"]: Decimal(s["rate"]) for s in json.loads(answer.content)}
        # the charge
        order = order_place(
            user=user,
            service_id=service.pk,
            fields={"link": "https://instagram.com/p/price", "quantity": "1000"},
        )
        assert page_rate == form_rate == new_rate == api_rates[service.pk] == expected[service.pk]
        assert order.charge == expected[service.pk]  # 1000 units: the charge is the rate


def test_product_pages_api_and_charge_take_the_percent_off(
    priced_customer: tuple[User, Service, Service], client: Client
) -> None:
    user, _, _ = priced_customer
    product = Product.objects.filter(is_in_stock=True).order_by("pk").first()
    expected = (product.rate * Decimal("0.85")).quantize(MONEY)
    client.force_login(user)
    key = api_key_create(user=user)

    page = client.get(reverse("product_list"))
    answer = client.post("/api/v2", {"key": key, "action": "products"})
    order = product_order_place(user=user, product_id=product.pk, quantity=1, require="me")

    assert {p["id"]: Decimal(p["rate"]) for p in page.context["products"]}[product.pk] == expected
    rates = {p["product"]: p["rate"] for p in json.loads(answer.content, parse_float=Decimal)}
    assert Decimal(str(rates[product.pk])) == expected
    assert order.charge == expected
