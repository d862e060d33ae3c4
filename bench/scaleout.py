"""Scale-out: one provider's poll round and a forwarding backlog shared by 1, 2 and 4 real
Celery worker processes on Redis (each its own `celery worker --concurrency 1`, as workers on
separate machines would be), with the simulator in its own process.

Each run checks what sharing must never do: poll an order twice in a round (the simulator
counts the ids it is asked about), write an order twice (one status event per order), or add
an order upstream twice (the simulator counts adds per link)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bench.common import broker_db, note, report, reset_tables, worker_env
from bench.upstream import KEY, Upstream, sandbox_process

WORKER_COUNTS = (1, 2, 4)
# All workers together keep this many status calls in flight (the provider's setting).
POLL_CONCURRENCY = 16


HOLD_QUEUE = "bench-hold"


@contextmanager
def _workers(count: int, *, queue: str = "", **env: str) -> Iterator[list]:
    """`count` Celery workers (one process each, no beat) on `queue` (all the panel's queues
    when empty), ready to take tasks."""
    from django.conf import settings

    from tests.e2e.processes import VENV_BIN, Process, flush_redis, wait_until

    queue = queue or ",".join(declared.name for declared in settings.CELERY_TASK_QUEUES)

    flush_redis(broker_db())
    started = []
    try:
        for number in range(count):
            args = [str(VENV_BIN / "celery"), "-A", "panel", "worker", "--loglevel", "INFO"]
            args += ["--concurrency", "1", "--hostname", f"bench{number}@%h", "--without-gossip"]
            args += ["--without-mingle", "--without-heartbeat", "--queues", queue]
            started.append(Process(args, worker_env(**env), f"bench-worker{number}"))
        for worker in started:
            wait_until(
                lambda worker=worker: "ready." in worker.output(), timeout=120, what="a worker"
            )
        yield started
    finally:
        for worker in started:
            worker.stop()


def _peak_rss_mb(worker: object) -> float:
    """The highest resident memory of the worker's pool process (the one that runs tasks)."""
    pid = worker.popen.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    peaks = [_vm_hwm_kb(int(child)) for child in children] or [_vm_hwm_kb(pid)]
    return max(peaks) / 1024


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _provider(upstream: Upstream) -> object:
    from providers.services import catalog_sync, provider_create

    provider = provider_create(name="Bench", api_url=upstream.url, api_key=KEY)
    provider.poll_concurrency = POLL_CONCURRENCY
    provider.save(update_fields=["poll_concurrency"])
    catalog_sync(provider=provider)
    return provider


def _poll_round(orders: int, workers: int) -> tuple[float, float]:
    """Wall time of one round over `orders` live orders, and the workers' peak RSS in MB."""
    from django.db.models import Count
    from django.utils import timezone

    from accounts.selectors import ledger_mismatches
    from bench.polling import _seed_upstream
    from orders.models import OrderEvent
    from orders.tasks import orders_poll_all_task
    from tests.e2e.processes import wait_until

    reset_tables()
    with sandbox_process(seed=2, pending_seconds=1, run_seconds=60) as upstream:
        provider = _provider(upstream)
        _seed_upstream(upstream, provider, orders)
        upstream.control("config", latency_ms=50)
        env = {"PANEL_POLL_TASKS_PER_PROVIDER": str(workers)}
        with _workers(workers, **env) as started:
            begun = timezone.now()
            orders_poll_all_task.delay()
            wait_until(lambda: not _unpolled(begun), timeout=600, what="every order polled")
            wall = (timezone.now() - begun).total_seconds()
            peak = max(_peak_rss_mb(worker) for worker in started)
        asked = upstream.control("stats")
    repeated = asked.get("status_ids_repeated", 0)
    events = OrderEvent.objects.values("order_id").annotate(n=Count("id"))
    assert asked.get("status_ids", 0) == orders, f"asked {asked.get('status_ids')} of {orders}"
    assert repeated == 0, f"{repeated} orders polled twice"
    assert events.filter(n__gt=1).count() == 0, "an order was written twice"
    assert ledger_mismatches() == []
    return wall, peak


def _unpolled(begun: datetime) -> bool:
    """Whether some order is still due: a written row is due again only after the poll
    interval (one to two minutes here), and a claim leaves its rows as they were. Asked the
    way a claim asks, so the check reads the due-for-poll index instead of scanning the table
    four times a second beside the round it measures."""
    from orders.services.polling import ORDERS

    return ORDERS.model.objects.filter(
        ORDERS.due, dispatch_state="sent", next_poll_at__lte=begun
    ).exists()


def _forward_backlog(orders: int, workers: int, latency_ms: float) -> float:
    """Orders per second forwarded from a backlog of `orders` queued ones."""
    from accounts.services import balance_credit
    from orders.enqueue import provider_queue
    from orders.models import DispatchState, Order
    from orders.services import forwards_queue, order_place
    from panel.celery import app
    from providers.models import Service
    from tests.e2e.processes import wait_until
    from tests.factories import UserFactory

    reset_tables()
    with sandbox_process(seed=3, latency_ms=latency_ms) as upstream:
        provider = _provider(upstream)
        service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
        user = UserFactory(username="fwd")
        balance_credit(user_id=user.pk, amount=Decimal(10_000_000), memo="bench")
        # The workers listen on another queue while the backlog is placed and its forward tasks
        # queued (what beat's forwarding sweep does), then all start taking them at once.
        # Every worker process may call this one provider at once: the figure is the scale-out
        # of forwarding, not the cap that keeps a hanging provider from taking every worker.
        with _workers(workers, queue=HOLD_QUEUE, PANEL_PROVIDER_FORWARD_SLOTS=str(workers)):
            for number in range(orders):
                order_place(
                    user=user,
                    service_id=service.pk,
                    fields={"link": f"@fwd{number}", "quantity": str(service.min)},
                )
            forwards_queue(limit=orders)
            begun = time.perf_counter()
            app.control.add_consumer(
                provider_queue("forward", provider.pk), reply=True, limit=workers, timeout=10
            )
            wait_until(
                lambda: not Order.objects.exclude(dispatch_state=DispatchState.SENT).exists(),
                timeout=600,
                what="every order forwarded",
            )
            wall = time.perf_counter() - begun
        stats = upstream.control("stats")
    twice = [link for link, count in stats["adds_per_link"].items() if count != 1]
    assert stats["add_calls"] == orders and not twice, f"adds {stats['add_calls']}, twice {twice}"
    return orders / wall


def run(
    *,
    poll_orders: int,
    forward_orders: int,
    forward_latency_ms: float,
    worker_counts: tuple[int, ...] = WORKER_COUNTS,
) -> None:
    poll_walls, forward_rates, peaks = {}, {}, {}
    for workers in worker_counts:
        poll_walls[workers], peaks[workers] = _poll_round(poll_orders, workers)
        note(f"poll {poll_orders} orders, {workers} worker(s): {poll_walls[workers]:.1f} s")
    for workers in worker_counts:
        forward_rates[workers] = _forward_backlog(forward_orders, workers, forward_latency_ms)
        note(
            f"forward {forward_orders} orders, {workers} worker(s): {forward_rates[workers]:.0f}/s"
        )
    note(
        f"each worker is `celery worker --concurrency 1`; {POLL_CONCURRENCY} status calls in "
        f"flight per provider, split between the workers; the simulator answers status in 50 ms "
        f"and add in {forward_latency_ms:.0f} ms; no order was polled, written or added twice"
    )
    for workers in worker_counts:
        report(f"poll_all_orders_{workers}_workers", poll_walls[workers], "s")
    for workers in worker_counts[1:]:
        report(f"poll_speedup_{workers}_workers", poll_walls[1] / poll_walls[workers], "x")
    for workers in worker_counts:
        report(f"forward_orders_per_second_{workers}_workers", forward_rates[workers], "orders/s")
    for workers in worker_counts[1:]:
        report(
            f"forward_speedup_{workers}_workers",
            forward_rates[workers] / forward_rates[1],
            "x",
        )
    report("poll_worker_peak_rss", peaks[1], "MB")
    report("poll_worker_peak_rss_max_any_run", max(peaks.values()), "MB")
