"""Admin pages for routes, price overrides, tiers and coupons render and write through services."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Coupon, PricingTier, User
from providers.models import Provider, Service, ServiceRoute, ServiceType
from tests.factories import ProviderFactory, ServiceFactory


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def pair(db: None) -> tuple[Service, Service]:
    home, other = ProviderFactory(name="Home"), ProviderFactory(name="Other")
    service = ServiceFactory(provider=home, name="Instagram followers HQ")
    ServiceFactory(provider=other, name="Telegram members", type=ServiceType.PACKAGE)
    target = ServiceFactory(provider=other, name="Instagram followers HQ fast")
    return service, target


@pytest.mark.parametrize(
    "model",
    [
        "providers/serviceroute",
        "providers/priceoverride",
        "accounts/pricingtier",
        "accounts/coupon",
        "accounts/couponredemption",
    ],
)
def test_changelists_and_add_pages_render(admin_client: Client, pair: tuple, model: str) -> None:
    assert admin_client.get(f"/admin/{model}/").status_code == 200
    if model != "accounts/couponredemption":
        assert admin_client.get(f"/admin/{model}/add/").status_code == 200


def test_suggest_routes_lists_the_same_type_and_adds_a_route_with_its_home(
    admin_client: Client, pair: tuple[Service, Service]
) -> None:
    service, target = pair
    url = reverse("admin:providers_service_suggest_routes", args=[service.pk])

    page = admin_client.get(url)
    added = admin_client.post(url, {"target": target.pk, "priority": "20"})

    assert [s.target for s in page.context["suggestions"]] == [target]
    assert added.status_code == 302
    routes = ServiceRoute.objects.filter(service=service).order_by("priority")
    assert [(r.target, r.priority) for r in routes] == [(service, 0), (target, 20)]
    assert routes[1].is_profitable and routes[1].cost_rate == Decimal(2)  # 2 × 1 < 2.5


def test_route_add_form_refuses_another_type_without_a_500(
    admin_client: Client, pair: tuple[Service, Service]
) -> None:
    service, _ = pair
    package = Service.objects.get(type=ServiceType.PACKAGE)

    response = admin_client.post(
        reverse("admin:providers_serviceroute_add"),
        {"service": service.pk, "target": package.pk, "priority": 5, "is_enabled": "on"},
    )

    assert response.status_code == 200 and "wrong fields" in response.content.decode()
    assert not ServiceRoute.objects.exists()


def test_coupon_added_in_admin_is_stored_upper_case(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_coupon_add"),
        {
            "code": "welcome",
            "bonus_percent": "5",
            "bonus_amount": "0",
            "min_deposit": "0",
            "max_uses_per_user": "1",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert Coupon.objects.get().code == "WELCOME"


def test_saving_a_tier_reassigns_customers(admin_client: Client, customer: User) -> None:
    admin_client.post(
        reverse("admin:accounts_pricingtier_add"),
        {
            "name": "Everyone",
            "basis": "deposits",
            "threshold": "50",
            "percent_off": "3",
            "is_active": "on",
        },
    )

    customer.refresh_from_db()
    assert customer.pricing_tier == PricingTier.objects.get(name="Everyone")


def test_provider_health_filter(admin_client: Client) -> None:
    ProviderFactory(name="Dry", balance=Decimal(1))
    ProviderFactory(name="Fine", balance=Decimal(100))

    response = admin_client.get("/admin/providers/provider/", {"health": "low_balance"})

    assert [p.name for p in response.context["cl"].result_list] == ["Dry"]
    assert Provider.objects.count() == 2
