"""The public services page with 10,000 services on sale, each showing its average delivery
time, and the bulk job that computes those times from the last completed orders."""

from datetime import timedelta
from decimal import Decimal

from bench.common import count_queries, median_ms, note, report, reset_tables, timed


def _completed_orders(per_service: int) -> int:
    """`per_service` completed orders on every service, written in bulk (bench data only)."""
    from django.utils import timezone

    from orders.models import Order, OrderStatus
    from providers.models import Service
    from tests.factories import UserFactory

    user = UserFactory(username="timesbench")
    now = timezone.now()
    rows = []
    for n, (service_id, provider_id) in enumerate(Service.objects.values_list("pk", "provider_id")):
        for k in range(per_service):
            rows.append(
                Order(
                    user=user,
                    service_id=service_id,
                    provider_id=provider_id,
                    link="@bench",
                    quantity=1000,
                    total_quantity=1000,
                    charge=Decimal(0),
                    upstream_rate=Decimal(0),
                    cost=Decimal(0),
                    status=OrderStatus.COMPLETED,
                    dispatch_state="sent",
                    finished_at=now - timedelta(minutes=k),
                )
            )
        if n % 1000 == 999:
            Order.objects.bulk_create(rows, batch_size=5000)
            rows = []
    Order.objects.bulk_create(rows, batch_size=5000)
    # Placing times spread over a few hours, so the averages differ.
    Order.objects.update(created_at=now - timedelta(hours=3))
    return Order.objects.count()


def run(*, services: int, per_service: int) -> None:
    from django.test import Client

    from orders.delivery_times import service_delivery_times_refresh
    from providers.models import Service
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer

    reset_tables()
    with SandboxServer(SandboxConfig(services=services, seed=5), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
    orders = _completed_orders(per_service)
    with count_queries() as refresh_queries, timed() as refresh:
        changed = service_delivery_times_refresh()
    with_time = Service.objects.filter(average_time_seconds__isnull=False).count()
    note(f"{Service.objects.count()} services, {orders} completed orders, {with_time} with a time")

    client = Client()
    page = client.get("/services/")
    assert page.status_code == 200 and b"Usual time" in page.content, page.status_code
    with count_queries() as page_queries:
        client.get("/services/")
    page_ms, page_p95 = median_ms(lambda: client.get("/services/"), repeat=20)

    report("delivery_times_full_refresh", refresh[0], "s")
    report("delivery_times_full_refresh_queries", refresh_queries[0], "queries")
    report("delivery_times_services_changed", changed, "services")
    report("services_page_10k_with_times_median", page_ms, "ms")
    report("services_page_10k_with_times_p95", page_p95, "ms")
    report("services_page_queries", page_queries[0], "queries")
