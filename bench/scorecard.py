"""The scorecard's refresh over a month of finished orders: one aggregate query computes every
service's and route's percentiles, one counts refills, and the two small tables are rewritten."""

from datetime import timedelta
from decimal import Decimal

from bench.common import count_queries, note, report, reset_tables, timed


def _finished_orders(total: int) -> int:
    """`total` orders finished over the last 30 days, spread over the catalog, a quarter of
    them by a route, each with the status event that marks its start (bulk, bench data only)."""
    from django.db.models import DurationField, ExpressionWrapper, F
    from django.utils import timezone

    from orders.models import Order, OrderEvent, OrderStatus
    from providers.models import Service, ServiceRoute
    from tests.factories import UserFactory

    user = UserFactory(username="scorebench")
    services = list(Service.objects.values_list("pk", "provider_id"))
    routes = {
        service_id: ServiceRoute.objects.create(
            service_id=service_id, target_id=service_id, priority=0
        ).pk
        for service_id, _ in services[::4]
    }
    now = timezone.now()
    statuses = [OrderStatus.COMPLETED] * 8 + [OrderStatus.PARTIAL, OrderStatus.CANCELED]
    batch: list[Order] = []
    for n in range(total):
        service_id, provider_id = services[n % len(services)]
        quantity = 100 + (n * 7919) % 10_000
        batch.append(
            Order(
                user=user,
                service_id=service_id,
                provider_id=provider_id,
                route_id=routes.get(service_id),
                link="@bench",
                quantity=quantity,
                total_quantity=quantity,
                charge=Decimal(0),
                upstream_rate=Decimal(0),
                cost=Decimal(0),
                status=statuses[n % len(statuses)],
                dispatch_state="sent",
                finished_at=now - timedelta(minutes=n % (29 * 24 * 60)),
            )
        )
        if len(batch) == 20_000:
            _write(batch, OrderEvent)
            batch = []
    _write(batch, OrderEvent)
    # Each order took a second per unit, so the times differ.
    Order.objects.update(
        created_at=F("finished_at")
        - ExpressionWrapper(F("quantity") * timedelta(seconds=1), output_field=DurationField())
    )
    return Order.objects.count()


def _write(batch: list, events: type) -> None:
    from core.db.partitions import period_of
    from orders.models import Order, OrderStatus

    orders = Order.objects.bulk_create(batch, batch_size=5000)
    events.objects.bulk_create(
        [
            events(
                order_id=order.pk,
                # The seed's orders are this month's, whose ids period_of has cached.
                period=period_of(Order._meta.db_table, order.pk),
                field="status",
                old_value=OrderStatus.PENDING,
                new_value=OrderStatus.IN_PROGRESS,
                actor="poller",
            )
            for order in orders
            if order.status != OrderStatus.CANCELED
        ],
        batch_size=5000,
    )


def run(*, orders: int) -> None:
    from orders.scorecard import service_scores_refresh
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer

    reset_tables()
    with SandboxServer(SandboxConfig(services=1000, seed=5), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
    made = _finished_orders(orders)
    with count_queries() as queries, timed() as first:
        counts = service_scores_refresh()
    with timed() as second:
        service_scores_refresh()
    note(f"{made} finished orders: {counts.services} services and {counts.routes} routes scored")
    report("scorecard_refresh", first[0], "s")
    report("scorecard_refresh_again", second[0], "s")
    report("scorecard_refresh_queries", queries[0], "queries")
