"""End to end with a real Celery worker (and its beat) on Redis, not eager mode: orders placed
through the service reach the sandbox, move on by themselves, and are refunded exactly."""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from accounts.selectors import ledger_mismatches
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    Refill,
    RefillStatus,
)
from orders.pricing import partial_refund
from orders.services import order_cancel, order_place, product_order_place, refill_request
from providers.models import Product, Service, ServiceType
from providers.services import catalog_sync, provider_create
from sandbox import SandboxConfig, SandboxServer
from tests.e2e.processes import (
    FAST_PANEL,
    Process,
    celery_worker,
    flush_run_broker,
    shared_database_url,
    wait_until,
)
from tests.factories import UserFactory
from tests.support import sandbox_control, sandbox_stats

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        services=40,
        products=6,
        seed=11,
        pending_seconds=0.5,
        run_seconds=1.5,
        partial_rate=0.3,
        cancel_rate=0.2,
        refill_rejected_rate=0,
    )
    with SandboxServer(config, port=0) as server:
        yield server


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        **FAST_PANEL,
    }
    process = celery_worker(env)
    yield process
    process.stop()


def test_orders_flow_through_a_real_worker_and_are_refunded_exactly(
    sandbox: SandboxServer, worker: Process
) -> None:
    # given the sandbox as provider and a customer
    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    customer = UserFactory(funds=Decimal(500))
    service = (
        Service.objects.filter(
            provider=provider, type=ServiceType.DEFAULT, has_refill=True, has_cancel=True
        )
        .order_by("pk")
        .first()
    )
    assert service is not None

    # when twenty orders are placed through the service
    for i in range(20):
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": f"https://instagram.com/p/e2e{i}", "quantity": str(service.min * 2)},
        )
    product = Product.objects.filter(provider=provider, is_in_stock=True).order_by("pk").first()
    product_order = product_order_place(
        user=customer, product_id=product.pk, quantity=product.min, require="me@example.com"
    )

    # then each reaches the sandbox and all end by themselves (latency is measured in bench/,
    # not asserted here: the machine is shared)
    wait_until(
        lambda: not Order.objects.exclude(dispatch_state=DispatchState.SENT).exists(),
        timeout=60,
        what="every order to be sent",
    )
    wait_until(
        lambda: not Order.objects.exclude(status__in=OrderStatus.finals()).exists(),
        timeout=60,
        what="every order to finish",
        interval=0.5,
    )
    wait_until(
        lambda: ProductOrder.objects.get(pk=product_order.pk).status == "Completed",
        timeout=30,
        what="the product order",
    )

    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses >= {OrderStatus.COMPLETED}, statuses
    for order in Order.objects.all():
        if order.status == OrderStatus.CANCELED:
            assert order.refunded == order.charge
        elif order.status == OrderStatus.PARTIAL:
            assert (
                order.refunded
                == partial_refund(
                    charge=order.charge, remains=order.remains, total_quantity=order.total_quantity
                )
                > 0
            )
        else:
            assert order.refunded == 0
    assert all(count == 1 for count in sandbox_stats(sandbox)["adds_per_link"].values())
    assert ProductOrder.objects.get(pk=product_order.pk).result
    assert ledger_mismatches() == []

    # and a refill of a completed order flows to the provider and back
    completed = Order.objects.filter(status=OrderStatus.COMPLETED).first()
    refill = refill_request(user=customer, order_id=completed.pk)
    wait_until(
        lambda: (
            Refill.objects.get(pk=refill.pk).status
            in (RefillStatus.COMPLETED, RefillStatus.REJECTED)
        ),
        timeout=30,
        what="the refill",
    )

    # and a cancel of a sent order comes back as its refund
    sandbox_control(
        sandbox, "config", pending_seconds=60
    )  # this one stays Pending upstream until canceled
    to_cancel = order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/cancel", "quantity": str(service.min)},
    )
    wait_until(
        lambda: Order.objects.get(pk=to_cancel.pk).dispatch_state == DispatchState.SENT,
        timeout=20,
        what="the order to be sent",
    )
    order_cancel(user=customer, order_id=to_cancel.pk)
    wait_until(
        lambda: Order.objects.get(pk=to_cancel.pk).status == OrderStatus.CANCELED,
        timeout=30,
        what="the cancel to come back",
    )
    to_cancel.refresh_from_db()
    assert to_cancel.refunded == to_cancel.charge

    customer.refresh_from_db()
    spent = sum(o.charge - o.refunded for o in Order.objects.all()) + product_order.charge
    assert customer.balance == Decimal(500) - spent
    assert ledger_mismatches() == []
