"""The margin guard (issue 21, part 1): a sync holds what would sell below the minimum margin,
what rose sharply and what came back; every hold has a way out; placing never sells at a loss."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.credit_bonus import credit_bonus_percent
from accounts.models import Coupon, PricingTier, User
from accounts.services import api_key_create
from notifications.models import Kind as NotificationKind
from notifications.models import Notification
from orders.errors import BelowMargin
from orders.models import Order, Source
from orders.services import order_place
from panel.dashboard.live import hands
from payments.models import BonusRule
from providers.models import CatalogChange, HoldReason, PriceOverride, Provider, Service
from providers.services import (
    catalog_hold_approve_pinned,
    catalog_hold_approve_reprice,
    catalog_hold_disable,
    catalog_sync,
)
from sandbox import SandboxServer
from tests.factories import UserFactory
from tests.support import sandbox_control, with_form_token

LINK = "https://instagram.com/p/abc123"


def _first(catalog: Provider) -> Service:
    return Service.objects.filter(provider=catalog, type="Default").order_by("pk").first()


def _raise(sandbox: SandboxServer, service: Service, factor: str) -> None:
    sandbox_control(sandbox, "reprice", services=[int(service.upstream_id)], factor=factor)


def _held_digests() -> int:
    """Staff emails of the margin guard's digest (Telegram rows only when Telegram is set up)."""
    return Notification.objects.filter(
        kind=NotificationKind.OPS_SERVICES_HELD, channel="staff_email"
    ).count()


def _on_sale(service: Service) -> bool:
    return Service.objects.on_sale().filter(pk=service.pk).exists()


# --- What a sync holds ---------------------------------------------------------------------------


def test_a_cost_that_leaves_less_than_the_margin_at_the_best_tier_is_held_with_its_reason(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    UserFactory(is_staff=True, email="ops@example.com")
    # 25 % markup less 18 % off: 1.025 × cost, below the 5 % margin once the cost moves at all.
    PricingTier.objects.create(name="Gold", threshold=Decimal(1000), percent_off=Decimal(18))
    service = _first(catalog)
    old_rate, old_cost = service.rate, service.upstream_rate
    _raise(sandbox, service, "1.1")

    summary = catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.held == 1
    assert service.hold_reason == HoldReason.BELOW_MARGIN and service.held_at is not None
    assert service.held_from_cost == old_cost  # the data the catalog renders the reason from
    assert service.rate == old_rate  # not repriced behind the operator's back
    assert service.upstream_rate == old_cost * Decimal("1.1")
    assert not _on_sale(service) and service.is_enabled and service.is_available
    hold_row = CatalogChange.objects.get(service=service, field="hold")
    assert (hold_row.new_value, hold_row.is_public) == (HoldReason.BELOW_MARGIN, False)
    assert _held_digests() == 1
    digest = Notification.objects.get(
        kind=NotificationKind.OPS_SERVICES_HELD, channel="staff_email"
    )
    assert f"#{service.pk}" in digest.payload["body"]
    assert "minimum margin" in digest.payload["body"]


def test_a_rise_beyond_the_hold_percent_is_held_even_when_the_margin_holds(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    old_rate = service.upstream_rate * 2
    Service.objects.filter(pk=service.pk).update(markup_percent=Decimal(100), rate=old_rate)
    _raise(sandbox, service, "1.5")  # 2 × the old cost is 1.33 × the new: the margin holds

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert service.hold_reason == HoldReason.PRICE_RISE
    assert service.rate == old_rate and not _on_sale(service)


def test_a_rise_that_eats_the_margin_at_todays_price_waits_for_an_operator(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    old_rate = service.rate
    _raise(sandbox, service, "1.2")  # 1.25 × the old cost is 1.04 × the new

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert service.hold_reason == HoldReason.BELOW_MARGIN
    assert service.rate == old_rate and not _on_sale(service)


def test_a_moderate_rise_that_keeps_the_margin_is_repriced_and_stays_on_sale(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    old_rate = service.rate
    _raise(sandbox, service, "1.1")  # 1.25 × the old cost is 1.14 × the new

    summary = catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.held == 0 and _held_digests() == 0
    assert service.hold_reason == "" and service.rate > old_rate and _on_sale(service)


def test_a_customers_override_counts_as_the_lowest_price(
    catalog: Provider, sandbox: SandboxServer, customer: User
) -> None:
    service, other = Service.objects.filter(provider=catalog, type="Default").order_by("pk")[:2]
    PriceOverride.objects.create(user=customer, service=service, rate=service.upstream_rate)
    _raise(sandbox, service, "1.05")
    _raise(sandbox, other, "1.05")

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    other.refresh_from_db()
    assert service.hold_reason == HoldReason.BELOW_MARGIN
    assert other.hold_reason == "" and _on_sale(other)


# 25 % markup, the cost raised by 10 %: 1.14 × the new cost at face, held once credit is bought
# with a bonus of 10 % or more (1.25 / 1.1 / 1.1 = 1.03).
@pytest.mark.parametrize(
    ("bonus", "is_held"),
    [
        ({"bonus_percent": Decimal(10)}, True),
        ({"bonus_amount": Decimal(20), "min_deposit": Decimal(100)}, True),  # 20 % at the least
        ({"bonus_percent": Decimal(2)}, False),
        ({"bonus_amount": Decimal(20)}, False),  # no minimum: a gift of 20, not a rate
        ({"bonus_percent": Decimal(50), "is_active": False}, False),
        ({"bonus_percent": Decimal(50), "max_uses": 1, "uses": 1}, False),  # used up
        ({"bonus_percent": Decimal(50), "expires_at": timezone.now() - timedelta(days=1)}, False),
    ],
)
def test_a_coupons_deposit_bonus_counts_as_a_discount_on_the_lowest_price(
    catalog: Provider, sandbox: SandboxServer, bonus: dict, is_held: bool
) -> None:
    Coupon.objects.create(code="BONUS", **bonus)
    service = _first(catalog)
    _raise(sandbox, service, "1.1")

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert service.hold_reason == (HoldReason.BELOW_MARGIN if is_held else "")
    assert _on_sale(service) is not is_held


def test_a_deposit_bonus_rule_counts_and_adds_to_the_best_coupon(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    BonusRule.objects.create(min_amount=Decimal(500), percent=Decimal(6))
    BonusRule.objects.create(min_amount=Decimal(50), percent=Decimal(3), is_enabled=False)
    Coupon.objects.create(code="SMALL", bonus_percent=Decimal(5))
    first, second = Service.objects.filter(provider=catalog, type="Default").order_by("pk")[:2]
    _raise(sandbox, first, "1.1")
    assert credit_bonus_percent() == Decimal(11)  # one deposit can earn both

    catalog_sync(provider=catalog)

    first.refresh_from_db()
    assert first.hold_reason == HoldReason.BELOW_MARGIN
    # The same bonus keeps an approval from releasing it at a price that loses the margin.
    assert catalog_hold_approve_pinned(items=Service.objects.filter(pk=first.pk)).refused
    BonusRule.objects.all().delete()
    assert catalog_hold_approve_pinned(items=Service.objects.filter(pk=first.pk)).released
    assert _on_sale(second)


def test_a_held_service_stays_held_across_syncs_and_the_digest_is_not_repeated(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    UserFactory(is_staff=True, email="ops@example.com")
    service = _first(catalog)
    _raise(sandbox, service, "2")
    catalog_sync(provider=catalog)
    digests = _held_digests()

    summary = catalog_sync(provider=catalog)
    _raise(sandbox, service, "0.5")  # back where it was: still the operator's call
    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.held == 0 and _held_digests() == digests
    assert service.hold_reason == HoldReason.BELOW_MARGIN and not _on_sale(service)


def test_a_vanished_service_is_taken_off_sale_at_its_price_and_held_when_it_comes_back(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    old_rate = service.rate
    sandbox_control(sandbox, "remove", services=[int(service.upstream_id)])

    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert not service.is_available and service.rate == old_rate > 0  # never re-priced to 0
    assert not _on_sale(service)


# --- Every hold has a way out ---------------------------------------------------------------------


@pytest.fixture
def held(catalog: Provider, sandbox: SandboxServer) -> Service:
    service = _first(catalog)
    _raise(sandbox, service, "1.5")
    catalog_sync(provider=catalog)
    service.refresh_from_db()
    assert service.hold_reason == HoldReason.BELOW_MARGIN
    return service


def test_approve_reprice_sells_at_the_markup_price_unpinned(held: Service) -> None:
    outcome = catalog_hold_approve_reprice(items=Service.objects.filter(pk=held.pk))

    held.refresh_from_db()
    assert [item.pk for item in outcome.released] == [held.pk] and not outcome.refused
    assert held.hold_reason == "" and held.held_at is None and not held.is_rate_pinned
    assert held.rate == (held.upstream_rate * Decimal("1.25")).quantize(Decimal("0.000001"))
    assert _on_sale(held)
    assert CatalogChange.objects.filter(service=held, field="rate", is_public=True).exists()


def test_approve_reprice_is_refused_while_it_would_still_lose_the_margin(held: Service) -> None:
    PricingTier.objects.create(name="Gold", threshold=Decimal(1000), percent_off=Decimal(20))

    outcome = catalog_hold_approve_reprice(items=Service.objects.filter(pk=held.pk))

    held.refresh_from_db()
    assert outcome.refused == [held] and not outcome.released
    assert held.hold_reason == HoldReason.BELOW_MARGIN and not _on_sale(held)
    # The way out from there: take it off sale (or pin a higher price).
    catalog_hold_disable(items=Service.objects.filter(pk=held.pk))
    held.refresh_from_db()
    assert held.hold_reason == "" and not held.is_enabled and not _on_sale(held)


def test_approve_pinned_keeps_a_price_that_clears_the_margin(held: Service) -> None:
    Service.objects.filter(pk=held.pk).update(rate=held.upstream_rate * 2)

    outcome = catalog_hold_approve_pinned(items=Service.objects.filter(pk=held.pk))

    held.refresh_from_db()
    assert outcome.released == [held]
    assert held.hold_reason == "" and held.is_rate_pinned and held.rate == held.upstream_rate * 2
    assert _on_sale(held)


def test_approve_pinned_is_refused_for_a_price_below_the_margin(held: Service) -> None:
    # The old price against the 1.5 × cost: 1.25 / 1.5 of the cost, a loss.
    outcome = catalog_hold_approve_pinned(items=Service.objects.filter(pk=held.pk))

    held.refresh_from_db()
    assert outcome.refused == [held] and held.hold_reason == HoldReason.BELOW_MARGIN


def test_disable_takes_a_held_service_off_sale_and_ends_the_hold(held: Service) -> None:
    outcome = catalog_hold_disable(items=Service.objects.all())

    held.refresh_from_db()
    assert outcome.released == [held]  # only the held among the items given
    assert held.hold_reason == "" and not held.is_enabled and not _on_sale(held)


def test_a_service_that_comes_back_is_held_until_approved(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    sandbox_control(sandbox, "remove", services=[int(service.upstream_id)])
    catalog_sync(provider=catalog)
    sandbox_control(sandbox, "reset")
    catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert service.is_available and service.hold_reason == HoldReason.RESTORED
    assert not _on_sale(service)

    catalog_hold_approve_reprice(items=Service.objects.filter(pk=service.pk))
    assert _on_sale(service)


# --- The admin and the dashboard -----------------------------------------------------------------


def test_admin_actions_resolve_holds_and_need_the_change_permission(
    client: Client, held: Service
) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_service"))
    client.force_login(viewer)
    url = reverse("admin:providers_service_changelist")
    data = {"action": "approve_held_reprice", "_selected_action": [held.pk]}

    client.post(url, data)
    held.refresh_from_db()
    assert held.hold_reason == HoldReason.BELOW_MARGIN  # a viewer has no such action

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(url, {"held": "any"})
    assert listing.status_code == 200 and str(held.pk) in listing.content.decode()
    client.post(url, data)
    held.refresh_from_db()
    assert held.hold_reason == "" and _on_sale(held)


def test_the_dashboard_lists_held_services_as_needing_hands(held: Service) -> None:
    item = next(item for item in hands() if item.label == "Services held by the margin guard")

    assert item.count == 1 and item.url == reverse("admin:providers_service_held")


# --- At placement ---------------------------------------------------------------------------------


def test_placing_refuses_a_charge_below_cost_plus_margin_before_any_sync(
    catalog: Provider, customer: User
) -> None:
    service = _first(catalog)
    # Upstream moved and no sync ran yet: the selling price is now below cost plus 5 %.
    Service.objects.filter(pk=service.pk).update(upstream_rate=service.rate)

    with pytest.raises(BelowMargin):
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": LINK, "quantity": "1000"},
            source=Source.WEB,
        )

    assert not Order.objects.exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal(100)


def test_the_api_answers_incorrect_service_and_the_form_says_why(
    client: Client, catalog: Provider, customer: User, reseller: User
) -> None:
    service, held_one = Service.objects.filter(provider=catalog, type="Default").order_by("pk")[:2]
    Service.objects.filter(pk=service.pk).update(upstream_rate=service.rate)
    Service.objects.filter(pk=held_one.pk).update(hold_reason=HoldReason.PRICE_RISE)
    key = api_key_create(user=reseller)

    for target in (service, held_one):
        answer = client.post(
            "/api/v2",
            {"key": key, "action": "add", "service": target.pk, "link": LINK, "quantity": 1000},
        )
        assert json.loads(answer.content) == {"error": "Incorrect service ID"}

    client.force_login(customer)
    page = client.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": LINK, "quantity": "1000"}),
    )
    assert "its price is being reviewed" in page.content.decode()
    assert not Order.objects.exists()


def test_an_order_in_flight_keeps_the_cost_frozen_at_placement(
    catalog: Provider, sandbox: SandboxServer, customer: User
) -> None:
    service = _first(catalog)
    order = order_place(
        user=customer, service_id=service.pk, fields={"link": LINK, "quantity": "1000"}
    )
    cost = order.cost
    _raise(sandbox, service, "3")

    catalog_sync(provider=catalog)

    order.refresh_from_db()
    assert order.cost == cost and order.upstream_rate == service.upstream_rate


def test_one_click_on_the_services_page_resolves_its_hold_and_needs_the_permission(
    client: Client, held: Service
) -> None:
    url = reverse("admin:providers_service_resolve_hold", args=[held.pk])
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_service"))
    client.force_login(viewer)
    assert client.post(url, {"resolution": "disable"}).status_code == 403

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:providers_service_change", args=[held.pk])).content.decode()
    assert f'formaction="{url}"' in page and "Its cost leaves less than the minimum margin" in page
    response = client.post(url, {"resolution": "disable"})

    held.refresh_from_db()
    assert response.status_code == 302
    assert held.hold_reason == "" and not held.is_enabled
