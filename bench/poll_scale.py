"""One poll sweep of a million live orders (`make bench-scale`, docs/scaling.md): every live
order of one provider polled once, with millions of finished orders beside them in the table,
the simulator in its own process answering in 50 ms, the panel's way as `bench/polling.py`
measures it at 100,000. Both kinds of order are written by one `INSERT … SELECT
generate_series` each, the live ones under the ids the simulator seeded for them."""

import multiprocessing
import time
from decimal import Decimal
from typing import Any

from bench.api import EXISTING_ORDERS_SQL
from bench.common import (
    database_cpu_seconds,
    note,
    own_database_cpu,
    report,
    reset_tables,
    timed,
    vacuum_analyze_loaded,
)
from bench.polling import CONCURRENCY
from bench.upstream import KEY, sandbox_process

# Live orders as a sweep finds them: sent up to two minutes ago, due now, Pending in the panel
# (about half of them finished upstream since, so every one changes), under the ids and links
# the simulator seeded (`/_sandbox/seed_orders` numbers them consecutively from `first`).
LIVE_ORDERS_SQL = """
INSERT INTO orders_order (
  user_id, service_id, provider_id, link, quantity, total_quantity, remains, details, status,
  upstream_id, upstream_service_id, dispatch_state, dispatch_attempts, dispatch_error,
  review_reason, poll_idle_count, poll_miss_count, created_at, updated_at, sent_at, next_poll_at,
  charge, refunded, upstream_rate, exchange_rate, cost, source
)
SELECT (%(users)s::bigint[])[1 + n %% cardinality(%(users)s::bigint[])], %(service)s,
  %(provider)s, 'https://instagram.com/p/seed' || (%(first)s + n), 1000, 1000, 1000, '{}'::jsonb,
  'Pending', (%(first)s + n)::text, %(upstream_service)s, 'sent', 1, '', '', 0, 0,
  now() - interval '2 minutes', now() - interval '2 minutes', now() - interval '2 minutes',
  now() - interval '1 second', 2.5, 0, 2, 1, 2, 'api'
FROM generate_series(0, %(orders)s - 1) AS n
"""

# The sweep's claims run in chunks until none is due; this only keeps a stuck run finite.
MAX_SECONDS = 3600


def _size(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}m"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)


def _seed(live: int, finished: int, first: int, service: object) -> float:
    """The panel's side: a hundred resellers, `finished` old orders and `live` due ones, then
    VACUUM ANALYZE of the partitions written (what autovacuum does soon after a bulk load);
    returns the seconds taken."""
    from django.db import connection

    from accounts.services import balance_credit
    from tests.factories import UserFactory

    begun = time.perf_counter()
    users = [UserFactory(username=f"pollscale{i}") for i in range(100)]
    for user in users:
        balance_credit(user_id=user.pk, amount=Decimal(1000), memo="bench")
    common = {
        "users": "{" + ",".join(str(user.pk) for user in users) + "}",
        "service": service.pk,  # type: ignore[attr-defined]
        "provider": service.provider_id,  # type: ignore[attr-defined]
    }
    # The live orders first, so that they sit in this month's id range: the months an empty
    # database makes ahead hold 1,000,000 ids each, where an install sizes them at three times
    # its largest month (core/db/partitions/months.py), so its live orders are in the current
    # month's range, not in the DEFAULT partition past the last one made ahead.
    with connection.cursor() as cursor:
        cursor.execute(
            LIVE_ORDERS_SQL,
            {
                **common,
                "orders": live,
                "first": first,
                "upstream_service": service.upstream_id,  # type: ignore[attr-defined]
            },
        )
        cursor.execute(EXISTING_ORDERS_SQL, {**common, "orders": finished})
    vacuum_analyze_loaded("orders_order")
    return time.perf_counter() - begun


def _poller(
    provider_id: int, share: int, shares: int, start: Any, results: Any
) -> None:  # pragma: no cover - runs in a forked process
    """One of `shares` pollers of the sweep, as a worker's poll task runs it
    (orders.tasks.provider_poll_task): its share of the calls in flight, its own lease holder.
    Puts its counts and its process's CPU seconds on `results`."""
    from orders.services.polling import ORDERS, poll
    from orders.services.polling.engine import poll_concurrency
    from providers.models import Provider

    provider = Provider.objects.get(pk=provider_id)
    start.wait()
    cpu = time.process_time()
    counts = poll(
        ORDERS,
        provider,
        max_seconds=MAX_SECONDS,
        concurrency=poll_concurrency(provider, shares=shares),
        holder=f"poll:{provider_id}" if share == 0 else f"poll:{provider_id}:{share}",
    )
    results.put((counts, time.process_time() - cpu))


def _sweep(provider: Any, pollers: int) -> tuple[Any, float]:
    """The sweep by `pollers` processes at once (a worker process each, as
    `PANEL_POLL_TASKS_PER_PROVIDER` sets it); their counts added up, and their CPU seconds.
    One poller runs in this process."""
    from orders.services.polling import ORDERS, poll
    from orders.services.polling.spec import PollCounts

    if pollers == 1:
        cpu = time.process_time()
        counts = poll(ORDERS, provider, max_seconds=MAX_SECONDS)
        return counts, time.process_time() - cpu
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=_poller, args=(provider.pk, share, pollers, start, results))
        for share in range(pollers)
    ]
    for process in processes:
        process.start()
    start.set()
    total, cpu = PollCounts(), 0.0
    for _ in processes:
        counts, seconds = results.get(timeout=MAX_SECONDS)
        total.add(counts)
        cpu += seconds
    for process in processes:
        process.join()
    return total, cpu


def run(
    *, live_orders: int, finished_orders: int, latency_ms: float = 50, pollers: int = 1
) -> None:
    from django.db import connections
    from django.db.models import Count

    from accounts.selectors import ledger_mismatches
    from orders.models import Order
    from providers.models import Service
    from providers.services import catalog_sync, provider_create

    reset_tables()
    with sandbox_process(seed=2, pending_seconds=1, run_seconds=60) as upstream:
        provider = provider_create(name="Bench", api_url=upstream.url, api_key=KEY)
        provider.poll_concurrency = CONCURRENCY
        provider.save(update_fields=["poll_concurrency"])
        catalog_sync(provider=provider)
        service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
        # The simulator numbers its orders from a random start: one order it seeds first (and
        # the panel never asks about) tells the ids the live ones will get, so the panel's rows
        # go in before them and the live orders' ages count from the end of the panel's long
        # seeding: as in `bench/polling.py`, some are still running upstream when polled.
        probe = upstream.control("seed_orders", count=1, service=int(service.upstream_id))
        first = probe["last"] + 1
        seeding = _seed(live_orders, finished_orders, first, service)
        with timed() as upstream_seeding:
            seeded = upstream.control(
                "seed_orders",
                count=live_orders,
                service=int(service.upstream_id),
                quantity=1000,
                age_seconds=120,
            )
        assert seeded["first"] == first, (seeded, first)
        note(
            f"seeded {live_orders} live orders in the simulator in {upstream_seeding[0]:.0f} s, "
            f"{finished_orders} finished and {live_orders} live in the panel in {seeding:.0f} s"
        )
        upstream.control("config", latency_ms=latency_ms)
        upstream_cpu = upstream.cpu_seconds()
        database_cpu = database_cpu_seconds()
        if pollers > 1:
            # The pollers are forked: none may share this process's database connection.
            connections.close_all()
        # The default poll interval (60 s), shorter than the sweep here: a round claims only
        # the rows due when it started, so the orders it wrote early are not polled again
        # before it ends (the simulator counts repeats, checked below).
        with own_database_cpu() as own_database, timed() as sweep:
            counts, cpu = _sweep(provider, pollers)
        if pollers == 1:
            cpu -= own_database.sampler_cpu
        upstream_cpu = upstream.cpu_seconds() - upstream_cpu
        database_after = database_cpu_seconds()
        if database_cpu is not None and database_after is not None:
            database_cpu = database_after - database_cpu
        asked = upstream.control("stats")

    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    note(
        f"{live_orders} live orders beside {finished_orders} finished ones, {latency_ms:.0f} ms "
        f"per request, {CONCURRENCY} calls in flight, {pollers} poller process(es), the "
        f"simulator in its own process: "
        f"{counts.calls} status calls, {counts.changed} changed, {counts.finalized} finished, "
        f"refunds {counts.refunded}; statuses now {statuses}"
    )
    assert counts.polled == live_orders, f"polled {counts.polled} of {live_orders}"
    assert asked.get("status_ids_repeated", 0) == 0, "an order was polled twice"
    assert ledger_mismatches() == []
    per_100k = 100_000 / live_orders
    size = _size(live_orders)
    report(f"poll_{size}_live_orders", sweep[0], "s")
    report(f"poll_{size}_pollers", pollers, "processes")
    report(f"poll_{size}_live_orders_per_second", live_orders / sweep[0], "orders/s")
    report(f"poll_{size}_panel_cpu_per_100k", cpu * per_100k, "s")
    report(f"poll_{size}_simulator_cpu_per_100k", upstream_cpu * per_100k, "s")
    if database_cpu is not None:
        # every PostgreSQL process of the machine: on a shared machine, others' work counts too
        report(f"poll_{size}_database_cpu_per_100k", database_cpu * per_100k, "s")
    # the benchmark database's own backends only: the figure to compare on a shared machine
    if own_database.seconds is not None:
        report(f"poll_{size}_database_own_cpu_per_100k", own_database.seconds * per_100k, "s")
