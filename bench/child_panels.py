"""1,000 child panels on one install (docs/child-panels.md): provisioning one through the real
service, `migrate` with a tenant column (from zero, and with every panel's rows present), the
catalog sync fan-out, one poll round across every panel's orders with real Celery workers, the
memory of a worker after it, and a child's services page on its own host.

The round is the realistic one: every child panel's orders are polled from the parent's own
/api/v2 (gunicorn, the owner's key of each panel, 100 ids a call), and the parent's orders
bought for them are polled from the simulator (its own process)."""

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from bench.common import count_queries, median_ms, note, report, reset_tables, worker_env
from bench.upstream import sandbox_process

DOMAIN = "p{n}.bench-child.test"


@contextmanager
def _parent_api(workers: int) -> Iterator[str]:
    """The parent's /api/v2 under gunicorn, as child panels reach it in production."""
    from bench.api import _up
    from tests.e2e.processes import VENV_BIN, Process, free_port, wait_until

    port = free_port()
    args = [str(VENV_BIN / "gunicorn"), "panel.wsgi", "-c", "gunicorn.conf.py"]
    args += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"]
    args += ["--env", "DJANGO_SETTINGS_MODULE=bench.settings"]
    env = worker_env(GUNICORN_WORKERS=str(workers), GUNICORN_THREADS="1")
    web = Process(args, env, "bench-parent-web")
    try:
        wait_until(lambda: _up(f"http://127.0.0.1:{port}/health/"), timeout=60, what="gunicorn")
        yield f"http://127.0.0.1:{port}/api/v2"
    finally:
        web.stop()


def _provision(panels: int) -> list[float]:
    """Every panel through `child_panel_create` and opened; the seconds each creation took."""
    from accounts.models import ChildPanelState
    from accounts.services import balance_credit
    from panel.child_panels.services import child_panel_create, child_panel_move
    from tests.factories import UserFactory

    owner = UserFactory(username="owner")
    balance_credit(user_id=owner.pk, amount=Decimal(10_000_000), memo="bench")
    took = []
    for n in range(panels):
        start = time.perf_counter()
        child = child_panel_create(domain=DOMAIN.format(n=n), owner=owner, name=f"Shop {n}")
        took.append(time.perf_counter() - start)
        child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    return took


def _sync_all_catalogs() -> float:
    """Every child panel's catalog synced from the parent's API by the workers (the fan-out
    provisioning and beat's sync queue), each once; the wall seconds."""
    from django.utils import timezone

    from providers.models import Provider
    from providers.tasks import catalog_sync_task
    from tests.e2e.processes import wait_until

    children = list(Provider.objects.filter(child_panel__isnull=False).values_list("pk", flat=True))
    since = timezone.now()
    begun = time.perf_counter()
    for provider_id in children:
        catalog_sync_task.delay(provider_id)
    wait_until(
        lambda: (
            not Provider.objects.filter(child_panel__isnull=False)
            .exclude(last_synced_at__gte=since)
            .exists()
        ),
        timeout=3600,
        what="every child catalog synced",
    )
    return time.perf_counter() - begun


def _catalog_versions(repeat: int) -> tuple[float, float]:
    """What the API's cached `services` answer asks on every call to know whether the catalog
    moved: the median of the whole catalog's version (every panel's rows, as it was read
    before) and of one child panel's own, in ms."""
    from accounts.models import ChildPanel
    from core.db import reads
    from core.tenancy import panel_scope
    from providers.models import Category, Product, Provider, Service
    from providers.selectors import catalog_version

    everything = (Service, Product, Category, Provider)
    whole = [m.objects.all() for m in everything]
    panel = ChildPanel.objects.order_by("pk").last()
    with panel_scope(panel.pk):
        own, _ = median_ms(catalog_version, repeat)
    old, _ = median_ms(lambda: reads.tables_version(*whole), repeat)
    return old, own


def _seed_orders(upstream: object, parent: object, per_panel: int) -> int:
    """`per_panel` live orders on every child panel, each bought at the parent as the owner
    (the owner's order, forwarded to the simulator): two rows per order, both due for a poll."""
    from django.utils import timezone

    from accounts.models import ChildPanel, User
    from orders.models import DispatchState, Order
    from providers.models import Provider, Service

    owner = User.objects.get(username="owner", child_panel=None)
    panels = list(ChildPanel.objects.order_by("pk"))
    customers = User.objects.bulk_create(
        User(username=f"buyer{p.pk}", email=f"buyer{p.pk}@example.com", child_panel=p)
        for p in panels
    )
    service = Service.objects.filter(provider=parent, type="Default").order_by("pk").first()
    count = len(panels) * per_panel
    first = upstream.control(
        "seed_orders",
        count=count,
        service=int(service.upstream_id),
        quantity=1000,
        age_seconds=120,
    )["first"]
    past = timezone.now() - timedelta(seconds=1)
    common = {
        "quantity": 1000,
        "total_quantity": 1000,
        "remains": 1000,
        "dispatch_state": DispatchState.SENT,
        "sent_at": past,
        "next_poll_at": past,
    }
    bought = Order.objects.bulk_create(
        (
            Order(
                user=owner,
                service=service,
                provider=parent,
                link=f"https://instagram.com/p/seed{first + n}",
                charge=Decimal("2.5"),
                upstream_rate=Decimal("2"),
                cost=Decimal("2"),
                upstream_id=str(first + n),
                **common,
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    providers = dict(
        Provider.objects.filter(child_panel__isnull=False).values_list("child_panel_id", "pk")
    )
    child_services = dict(
        Service.objects.filter(
            provider__child_panel__isnull=False, upstream_id=str(service.pk)
        ).values_list("provider_id", "pk")
    )
    placed = []
    for index, (panel, customer) in enumerate(zip(panels, customers, strict=True)):
        provider_id = providers[panel.pk]
        for k in range(per_panel):
            parent_order = bought[index * per_panel + k]
            placed.append(
                Order(
                    user=customer,
                    service_id=child_services[provider_id],
                    provider_id=provider_id,
                    link=parent_order.link,
                    charge=Decimal("3.125"),
                    upstream_rate=Decimal("2.5"),
                    cost=Decimal("2.5"),
                    upstream_id=str(parent_order.pk),
                    **common,
                )
            )
    Order.objects.bulk_create(placed, batch_size=5000)
    return count


def _rss_mb(worker: object) -> tuple[float, float]:
    """Resident memory now and at its peak of the worker's pool process (the one that runs the
    tasks), in MB."""
    from pathlib import Path

    pid = worker.popen.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    pool = int(children[0]) if children else pid
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pool}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _poll_round(workers: list) -> tuple[float, float, float]:
    """One round over every panel's due orders, the way beat starts it; its wall seconds and
    the largest current and peak RSS of a worker after it."""
    from django.utils import timezone

    from bench.scaleout import _unpolled
    from orders.tasks import orders_poll_all_task
    from tests.e2e.processes import wait_until

    begun = timezone.now()
    orders_poll_all_task.delay()
    wait_until(lambda: not _unpolled(begun), timeout=1800, interval=0.5, what="every order polled")
    wall = (timezone.now() - begun).total_seconds()
    sizes = [_rss_mb(worker) for worker in workers]
    return wall, max(now for now, _peak in sizes), max(peak for _now, peak in sizes)


def _migrate_figures() -> dict[str, float]:
    """`migrate` from zero on a fresh database (the run's own, at its start), `migrate` with
    nothing to do on the benchmark's database (every panel's rows in it), and a release's typical schema change there: a column
    and an index on the two biggest tenant tables (the orders and every panel's catalog)."""
    from django.db import connection, models, transaction

    from bench.common import MIGRATED_FROM_ZERO
    from orders.models import Order
    from providers.models import Service

    manage = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
    start = time.perf_counter()
    subprocess.run(manage, env=_env(**worker_env()), check=True)  # noqa: S603
    nothing_to_do = time.perf_counter() - start

    def release_column() -> models.Field:
        field = models.CharField(max_length=20, null=True, blank=True, db_index=True)
        field.set_attributes_from_name("bench_release_column")
        return field

    start = time.perf_counter()
    with transaction.atomic(), connection.schema_editor() as editor:
        for model in (Order, Service):
            editor.add_field(model, release_column())  # the column and its index
    change = time.perf_counter() - start
    with transaction.atomic(), connection.schema_editor() as editor:
        for model in (Order, Service):
            editor.remove_field(model, release_column())
    return {
        "from_zero": MIGRATED_FROM_ZERO[0],
        "nothing_to_do": nothing_to_do,
        "column_and_index": change,
    }


def _env(**extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **extra}


def _services_page(requests: int) -> dict[str, float]:
    """A child's /services/ on its own host: the median of cold requests (the cache and the
    host lookup emptied before each) and of warm ones, with its queries; and /theme.css (the
    host lookup and little else) with the host cache off (a query per request) and on."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from accounts.models import ChildPanel
    from panel.child_panels.hosts import forget_hosts

    domains = list(ChildPanel.objects.order_by("?").values_list("domain", flat=True)[:requests])
    cold, warm = [], []
    for domain in domains:
        client = Client(HTTP_HOST=domain)
        cache.clear()
        forget_hosts()
        start = time.perf_counter()
        page = client.get("/services/")
        cold.append(time.perf_counter() - start)
        name = f"Shop {domain.split('.')[0][1:]}".encode()
        assert page.status_code == 200 and name in page.content, page.status_code
        start = time.perf_counter()
        client.get("/services/")
        warm.append(time.perf_counter() - start)
    client = Client(HTTP_HOST=domains[0])
    with count_queries() as warm_queries:
        client.get("/services/")
    figures = {
        "cold": statistics.median(cold) * 1000,
        "warm": statistics.median(warm) * 1000,
        "warm_queries": warm_queries[0],
    }
    for seconds, label in ((0.0, "uncached"), (5.0, "cached")):
        settings.PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS = seconds
        forget_hosts()
        figures[f"theme_{label}"], _ = median_ms(lambda: client.get("/theme.css"), requests * 4)
    return figures


def run(
    *, panels: int, services: int, orders_per_panel: int, page_requests: int, workers: int = 2
) -> None:
    from django.conf import settings

    from accounts.selectors import ledger_mismatches
    from bench.scaleout import _provider, _workers
    from orders.models import Order
    from providers.models import Service

    reset_tables()
    with sandbox_process(seed=4, services=services, pending_seconds=1, run_seconds=60) as upstream:
        parent = _provider(upstream)
        with _parent_api(workers=2) as api_url:
            settings.PANEL_CHILD_PANEL_API_URL = api_url
            provisioning = _provision(panels)
            with _workers(workers) as started:
                synced = _sync_all_catalogs()
                resynced = _sync_all_catalogs()
                count = _seed_orders(upstream, parent, orders_per_panel)
                upstream.control("config", latency_ms=50)
                round_wall, rss_now, rss_peak = _poll_round(started)
        asked = upstream.control("stats")
    assert asked.get("status_ids", 0) == count, f"asked {asked.get('status_ids')} of {count}"
    assert asked.get("status_ids_repeated", 0) == 0
    assert ledger_mismatches() == []
    changed = Order.objects.exclude(status="pending").count()
    page = _services_page(page_requests)
    version_all_ms, version_own_ms = _catalog_versions(page_requests)
    migrate = _migrate_figures()
    note(
        f"{panels} child panels of one owner, {Service.objects.count()} services in all "
        f"({services} at the parent, a copy per panel), {orders_per_panel} live orders per panel "
        f"and the parent's {count} bought for them ({changed} rows changed status in the round); "
        f"{workers} Celery workers (--concurrency 1), the parent's API on gunicorn (2 workers), "
        f"the simulator at 50 ms a request in its own process"
    )
    report("child_panels_provision_one_median", statistics.median(provisioning) * 1000, "ms")
    report(
        "child_panels_provision_one_p95",
        sorted(provisioning)[int(len(provisioning) * 0.95)] * 1000,
        "ms",
    )
    report("child_panels_catalog_sync_all", synced, "s")
    report("child_panels_catalog_resync_all_unchanged", resynced, "s")
    report("child_panels_catalog_version_all_panels_median", version_all_ms, "ms")
    report("child_panels_catalog_version_one_panel_median", version_own_ms, "ms")
    report(f"child_panels_poll_round_{panels}", round_wall, "s")
    report("child_panels_worker_rss_after_round", rss_now, "MB")
    report("child_panels_worker_peak_rss", rss_peak, "MB")
    report("child_panels_services_page_cold_median", page["cold"], "ms")
    report("child_panels_services_page_warm_median", page["warm"], "ms")
    report("child_panels_services_page_warm_queries", page["warm_queries"], "queries")
    report("child_panels_theme_css_host_uncached_median", page["theme_uncached"], "ms")
    report("child_panels_theme_css_host_cached_median", page["theme_cached"], "ms")
    report("child_panels_migrate_from_zero", migrate["from_zero"], "s")
    report("child_panels_migrate_nothing_to_do", migrate["nothing_to_do"], "s")
    report("child_panels_migrate_column_and_index", migrate["column_and_index"], "s")
    # django-tenants applies every migration once per schema: the same run per panel.
    report("child_panels_migrate_schema_per_panel_estimate", migrate["from_zero"] * panels, "s")
