"""Routes and failover with two real sandbox providers: one rejects every add, one works."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.models import BalanceTransaction, User
from core.errors import InvalidRequest
from orders.errors import IncorrectService
from orders.models import DispatchState, Order, OrderStatus
from orders.services import order_forward, order_place, refill_request
from providers.models import (
    CatalogChange,
    Provider,
    ProviderCall,
    Service,
    ServiceRoute,
    ServiceType,
)
from providers.selectors import route_suggestions
from providers.services import catalog_sync, provider_create, route_add, route_update
from sandbox import SandboxConfig, SandboxServer
from tests.support import sandbox_control, sandbox_stats


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    # The "home" provider: every add is explicitly rejected.
    return SandboxConfig(key="sandbox-key", services=20, products=0, seed=11, reject_add_rate=1.0)


@pytest.fixture
def backup_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(key="backup-key", services=20, products=0, seed=11)
    with SandboxServer(config, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def backup(db: None, backup_sandbox: SandboxServer) -> Provider:
    provider = provider_create(
        name="Backup", api_url=backup_sandbox.url, api_key="backup-key", new_items_on_sale=False
    )
    catalog_sync(provider=provider)
    return provider


@pytest.fixture
def routed(catalog: Provider, backup: Provider) -> Service:
    """A Default service of the rejecting provider with a backup route to the same item."""
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    target = Service.objects.get(provider=backup, upstream_id=service.upstream_id)
    route_add(service=service, target=target, priority=10)
    return service


def _place(user: User, service: Service, link: str) -> Order:
    return order_place(
        user=user, service_id=service.pk, fields={"link": link, "quantity": str(service.min)}
    )


def test_first_route_adds_the_home_route_before_the_backup(
    routed: Service, backup: Provider
) -> None:
    routes = list(
        routed.routes.order_by("priority").values_list("target__provider__name", "priority")
    )

    assert routes == [("Sandbox", 0), ("Backup", 10)]


def test_rejected_add_fails_over_to_the_next_route_and_is_bought_once(
    routed: Service,
    backup: Provider,
    customer: User,
    sandbox: SandboxServer,
    backup_sandbox: SandboxServer,
    django_capture_on_commit_callbacks,  # noqa: ANN001
) -> None:
    # given
    order = _place(customer, routed, "https://instagram.com/p/failover")
    assert order.provider.name == "Sandbox" and order.route.target_id == routed.pk
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        assert order_forward(order_id=order.pk) == "rerouted"
    assert len(callbacks) == 1  # the forward by the next route is queued
    assert order_forward(order_id=order.pk) == "sent"
    # then
    order.refresh_from_db()
    backup_route = ServiceRoute.objects.get(service=routed, target__provider=backup)
    assert order.provider == backup and order.route == backup_route
    assert order.dispatch_state == DispatchState.SENT and order.status == OrderStatus.PENDING
    assert order.upstream_service_id == backup_route.target.upstream_id
    assert sandbox_stats(sandbox)["orders"] == 0
    assert sandbox_stats(backup_sandbox)["adds_per_link"] == {"https://instagram.com/p/failover": 1}
    assert order.cost == (backup_route.target.upstream_rate * routed.min / 1000).quantize(
        Decimal("0.000001")
    )
    assert not BalanceTransaction.objects.filter(order_id=order.pk, kind="refund").exists()
    calls = ProviderCall.objects.order_by("id").values_list("provider__name", "action", "result")
    assert list(calls) == [("Sandbox", "add", "rejected"), ("Backup", "add", "ok")]
    events = order.events.filter(field="dispatch").order_by("id")
    with translation.override("en"):
        messages = [(event.new_value, event.message_text) for event in events]
    assert ("queued", "Rejected by Sandbox: Incorrect service ID; next route: Backup") in messages


def test_refills_go_to_the_provider_that_has_the_order(
    routed: Service, backup: Provider, customer: User
) -> None:
    order = _place(customer, routed, "https://instagram.com/p/refill-route")
    order_forward(order_id=order.pk)
    order_forward(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    Service.objects.filter(pk=routed.pk).update(has_refill=True)

    refill = refill_request(user=customer, order_id=order.pk)

    assert refill.provider == backup


def test_last_route_rejecting_cancels_and_refunds(
    routed: Service, backup: Provider, customer: User
) -> None:
    backup_route = ServiceRoute.objects.get(service=routed, target__provider=backup)
    route_update(route=backup_route, priority=10, is_enabled=False)
    order = _place(customer, routed, "https://instagram.com/p/no-backup")

    assert order_forward(order_id=order.pk) == "failed"

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and order.refunded == order.charge
    assert order.provider.name == "Sandbox"


def test_unknown_outcome_is_never_sent_to_a_second_provider(
    routed: Service,
    backup: Provider,
    customer: User,
    sandbox: SandboxServer,
    backup_sandbox: SandboxServer,
) -> None:
    sandbox_control(sandbox, "config", reject_add_rate=0, error_5xx_rate=1.0)
    order = _place(customer, routed, "https://instagram.com/p/ambiguous")

    assert order_forward(order_id=order.pk) == "needs_review"

    order.refresh_from_db()
    assert order.dispatch_state == DispatchState.NEEDS_REVIEW and order.provider.name == "Sandbox"
    assert sandbox_stats(backup_sandbox)["orders"] == 0


def test_orders_skip_routes_whose_cost_is_not_below_the_price(
    routed: Service, backup: Provider, customer: User
) -> None:
    home = ServiceRoute.objects.get(service=routed, target=routed)
    Service.objects.filter(pk=routed.pk).update(
        upstream_rate=routed.rate
    )  # home now costs the price

    order = _place(customer, routed, "https://instagram.com/p/cheaper")

    assert order.provider == backup and order.route != home


def test_no_usable_route_refuses_the_order_and_charges_nothing(
    routed: Service, customer: User
) -> None:
    ServiceRoute.objects.filter(service=routed).update(is_enabled=False)

    with pytest.raises(IncorrectService):
        _place(customer, routed, "https://instagram.com/p/none")
    assert customer.orders.count() == 0


def test_sync_keeps_route_costs_and_logs_a_route_turning_unprofitable(
    routed: Service, backup: Provider, backup_sandbox: SandboxServer
) -> None:
    route = ServiceRoute.objects.get(service=routed, target__provider=backup)
    assert route.is_profitable
    sandbox_control(backup_sandbox, "reprice", services=[int(route.target.upstream_id)], factor="3")

    catalog_sync(provider=backup)

    route.refresh_from_db()
    assert not route.is_profitable and route.cost_rate >= routed.rate
    change = CatalogChange.objects.get(field="route")
    assert change.service == routed and not change.is_public
    assert "unprofitable" in change.new_value
    catalog_sync(provider=backup)
    assert CatalogChange.objects.filter(field="route").count() == 1  # logged once per turn


def test_route_needs_the_same_service_type(routed: Service, backup: Provider) -> None:
    other_type = Service.objects.filter(provider=backup).exclude(type=routed.type).first()

    with pytest.raises(InvalidRequest):
        route_add(service=routed, target=other_type)


def test_suggestions_rank_the_same_item_at_another_provider_first(
    catalog: Provider, backup: Provider
) -> None:
    service = Service.objects.filter(provider=catalog).order_by("pk").first()

    suggestions = route_suggestions(service=service)

    assert suggestions[0].target.provider == backup
    assert suggestions[0].target.upstream_id == service.upstream_id
    assert all(s.target.type == service.type for s in suggestions)


def test_route_for_reads_routes_unless_told_there_are_none(routed: Service) -> None:
    """`has_routes=False` (what service_for_order read with the service) spares the query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services.routing import route_for

    with CaptureQueriesContext(connection) as queries:
        home = route_for(routed, has_routes=False)
    assert len(queries) == 0
    assert (home.provider, home.route) == (routed.provider, None)

    routed_choice = route_for(routed)
    assert routed_choice.route is not None  # read from the database: the home route comes first
    assert routed_choice.route.target.provider == routed.provider
