"""Polling: every live order polled once with the sandbox answering in 50 ms, the panel's way
(100 ids a call, calls in flight, bulk writes) beside the one-order-per-request way that common
panels use, measured in the same run on a sample and scaled to the same count."""

import time
from datetime import timedelta
from decimal import Decimal

from bench.common import (
    database_cpu_seconds,
    note,
    own_database_cpu,
    report,
    reset_tables,
    timed,
)
from bench.upstream import KEY, Upstream, sandbox_process

BASELINE_SAMPLE = 100
# Status calls in flight (the provider's setting): what a provider that answers in 50 ms
# usually tolerates; the floor (1,000 calls in about 3.1 s) assumed 16.
CONCURRENCY = 16


def _seed(provider_id: int, service_id: int, first_upstream: int, count: int) -> None:
    from django.utils import timezone

    from accounts.services import balance_credit
    from orders.models import DispatchState, Order
    from tests.factories import UserFactory

    users = [UserFactory(username=f"poll{i}") for i in range(100)]
    for user in users:
        balance_credit(user_id=user.pk, amount=Decimal(1000), memo="bench")
    past = timezone.now() - timedelta(seconds=1)
    batch = []
    for number in range(count):
        batch.append(
            Order(
                user=users[number % len(users)],
                service_id=service_id,
                provider_id=provider_id,
                link=f"https://instagram.com/p/seed{first_upstream + number}",
                quantity=1000,
                total_quantity=1000,
                charge=Decimal("2.5"),
                upstream_rate=Decimal("2"),
                cost=Decimal("2"),
                remains=1000,
                upstream_id=str(first_upstream + number),
                dispatch_state=DispatchState.SENT,
                sent_at=past,
                next_poll_at=past,
            )
        )
        if len(batch) == 10_000:
            Order.objects.bulk_create(batch)
            batch = []
    Order.objects.bulk_create(batch)


def _one_per_request(provider: object, upstream_ids: list[str]) -> float:
    """The common way: one `status` call per order, one after the other (a cron loop)."""
    from providers.services import provider_client

    client = provider_client(provider)
    start = time.perf_counter()
    for upstream_id in upstream_ids:
        client.status(upstream_id)
    return time.perf_counter() - start


def _seed_upstream(upstream: Upstream, provider: object, orders: int) -> int:
    """Orders on both sides: created up to two minutes ago, some still running upstream and
    about half finished (the panel thinks they are all Pending, so every one changes)."""
    from providers.models import Service

    service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
    seeded = upstream.control(
        "seed_orders",
        count=orders,
        service=int(service.upstream_id),
        quantity=1000,
        age_seconds=120,
    )
    _seed(provider.pk, service.pk, seeded["first"], orders)
    return seeded["first"]


def run(*, orders: int, latency_ms: float = 50) -> None:
    from django.db.models import Count

    from accounts.selectors import ledger_mismatches
    from orders.models import Order
    from orders.services.polling import ORDERS, poll
    from providers.services import catalog_sync, provider_create

    reset_tables()
    with sandbox_process(seed=2, pending_seconds=1, run_seconds=60) as upstream:
        provider = provider_create(name="Bench", api_url=upstream.url, api_key=KEY)
        provider.poll_concurrency = CONCURRENCY
        provider.save(update_fields=["poll_concurrency"])
        catalog_sync(provider=provider)
        first = _seed_upstream(upstream, provider, orders)
        upstream.control("config", latency_ms=latency_ms)
        upstream_cpu = upstream.cpu_seconds()
        database_cpu = database_cpu_seconds()
        cpu = time.process_time()
        with own_database_cpu() as own_database, timed() as batched:
            counts = poll(ORDERS, provider, max_seconds=600)
        cpu = time.process_time() - cpu - own_database.sampler_cpu
        upstream_cpu = upstream.cpu_seconds() - upstream_cpu
        database_after = database_cpu_seconds()
        if database_cpu is not None and database_after is not None:
            database_cpu = database_after - database_cpu
        sample = [str(first + n) for n in range(BASELINE_SAMPLE)]
        baseline_sample = _one_per_request(provider, sample)

    per_order = baseline_sample / BASELINE_SAMPLE
    baseline_total = per_order * orders
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    note(
        f"{orders} orders at {latency_ms:.0f} ms per request, {CONCURRENCY} calls in flight, simulator in its own process "
        f"(manage.py sandbox_provider): {counts.calls} status calls, {counts.changed} changed, "
        f"{counts.finalized} finished, refunds {counts.refunded}; statuses now {statuses}"
    )
    note(
        f"one-per-request baseline measured on {BASELINE_SAMPLE} orders ({baseline_sample:.2f} s) and scaled to {orders}"
    )
    assert counts.polled == orders, f"polled {counts.polled} of {orders}"
    assert ledger_mismatches() == []
    report("poll_all_orders_batched", batched[0], "s")
    report("poll_orders_per_second_batched", orders / batched[0], "orders/s")
    _report_breakdown(counts.timings, cpu, upstream_cpu, database_cpu, own_database.seconds)
    report("poll_all_orders_one_per_request_estimate", baseline_total, "s")
    report("poll_speedup_vs_one_per_request", baseline_total / batched[0], "x")


def _report_breakdown(
    timings: object,
    cpu: float,
    upstream_cpu: float,
    database_cpu: float | None,
    own_database_cpu: float | None,
) -> None:
    note(
        "where the time went: the polling thread claims, compares, writes and credits refunds "
        "while the fetching threads wait on the provider and parse (their seconds overlap)"
    )
    report("poll_breakdown_claim", timings.claim, "s")
    report("poll_breakdown_compare", timings.compare, "s")
    report("poll_breakdown_write", timings.write, "s")
    report("poll_breakdown_refunds", timings.refunds, "s")
    report("poll_breakdown_fetch_client_cpu", timings.client_cpu, "s")
    report("poll_breakdown_fetch_wait", timings.http_wait, "thread-s")
    report("poll_panel_cpu", cpu, "s")
    report("poll_simulator_cpu", upstream_cpu, "s")
    if database_cpu is not None:
        # every PostgreSQL process of the machine: on a shared machine, others' work counts too
        report("poll_database_cpu", database_cpu, "s")
    # the benchmark database's own backends only: the figure to compare on a shared machine
    if own_database_cpu is not None:
        report("poll_database_own_cpu", own_database_cpu, "s")
