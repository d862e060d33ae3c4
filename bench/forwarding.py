"""Forward latency: from order_place to the upstream `add`, with a real Celery worker on Redis."""

import statistics
import time
from decimal import Decimal

from bench.common import broker_db, note, report, reset_tables, worker_env


def run(*, orders: int) -> None:
    from django.utils import timezone

    from accounts.services import balance_credit
    from orders.models import DispatchState, Order
    from orders.services import order_place
    from providers.models import Service
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.e2e.processes import celery_worker, flush_redis, wait_until
    from tests.factories import UserFactory

    reset_tables()
    flush_redis(broker_db())
    with SandboxServer(SandboxConfig(services=40, seed=3), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
        service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
        user = UserFactory(username="fwd")
        balance_credit(user_id=user.pk, amount=Decimal(100000), memo="bench")
        worker = celery_worker(worker_env(), name="bench-worker")
        try:
            placed = {}
            for number in range(orders):
                order = order_place(
                    user=user,
                    service_id=service.pk,
                    fields={"link": f"@fwd{number}", "quantity": str(service.min)},
                )
                placed[order.pk] = timezone.now()
                time.sleep(0.05)
            wait_until(
                lambda: not Order.objects.exclude(dispatch_state=DispatchState.SENT).exists(),
                timeout=60,
                what="all forwarded",
            )
        finally:
            worker.stop()
    latencies = sorted(
        (o.sent_at - o.created_at).total_seconds() * 1000 for o in Order.objects.all()
    )
    note(
        f"{orders} orders placed one every 50 ms; latency = created_at → stored upstream id (after the sandbox answered add)"
    )
    report("forward_latency_median", statistics.median(latencies), "ms")
    report(
        "forward_latency_p95", latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], "ms"
    )
