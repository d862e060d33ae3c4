"""The v2 endpoint: server time of `status` (100 ids) and `services` (10,000 services), and the
sustained `add` rate under gunicorn on PostgreSQL, beside a minimal DRF endpoint (the
framework's ceiling) and a fair baseline, a DRF endpoint that inserts one row and commits,
measured the same way in the same run."""

import itertools
import threading
import time
from decimal import Decimal
from typing import Any

import httpx

from bench.common import (
    broker_db,
    median_ms,
    note,
    report,
    reset_tables,
    vacuum_analyze_loaded,
    worker_env,
)

CLIENTS = 8


_serial = itertools.count()


def _load(url: str, forms: list[dict], seconds: float, threads: int) -> tuple[int, int, float]:
    """Answers without an error key, answers with one, and the seconds taken, with `threads`
    clients posting as fast as they are answered (client n posts forms[n % len(forms)])."""
    done, failed = [0], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(data: dict) -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop:
                # Each order on a link of its own: a service takes one open order per link
                # (docs/protocol.md), and the same body again would be refused.
                body = (
                    {**data, "link": f"{data['link']}/{next(_serial)}"} if "link" in data else data
                )
                answer = http.post(url, data=body)
                ok = answer.status_code == 200 and "error" not in answer.json()
                with lock:
                    done[0] += ok
                    failed[0] += not ok

    workers = [
        threading.Thread(target=client, args=(forms[n % len(forms)],)) for n in range(threads)
    ]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done[0], failed[0], time.monotonic() - start


def _interleaved(targets: dict[str, tuple[str, list[dict]]], seconds: float) -> dict[str, float]:
    """Requests per second of each target, measured in alternating one-second slices: on a
    shared machine the load drifts, and slices spread the drift evenly over the targets."""
    counts = dict.fromkeys(targets, 0)
    elapsed = dict.fromkeys(targets, 0.0)
    failures = dict.fromkeys(targets, 0)
    for _ in range(max(round(seconds), 1)):
        for name, (url, forms) in targets.items():
            done, failed, took = _load(url, forms, 1.0, threads=CLIENTS)
            counts[name] += done
            failures[name] += failed
            elapsed[name] += took
    for name, failed in failures.items():
        assert failed == 0, f"{failed} failed answers from {name}"
    return {name: counts[name] / elapsed[name] for name in targets}


# Orders already in the table for `add` at scale (`make bench-scale`): the resellers' own,
# finished long ago (three in four Completed), on links of their own, written in one statement.
EXISTING_ORDERS_SQL = """
INSERT INTO orders_order (
  user_id, service_id, provider_id, link, quantity, total_quantity, details, status, upstream_id,
  upstream_service_id, dispatch_state, dispatch_attempts, dispatch_error, review_reason,
  poll_idle_count, poll_miss_count, created_at, updated_at, finished_at, charge, refunded,
  upstream_rate, exchange_rate, cost, source
)
SELECT (%(users)s::bigint[])[1 + n %% cardinality(%(users)s::bigint[])], %(service)s, %(provider)s,
  'https://x.com/old/' || n, 1000, 1000, '{}'::jsonb,
  CASE WHEN n %% 4 = 0 THEN 'Partial' ELSE 'Completed' END, 'old' || n, '1', 'sent', 1, '', '',
  0, 0, now() - make_interval(secs => n), now() - make_interval(secs => n),
  now() - make_interval(secs => n), 1, 0, 1, 1, 0.7, 'api'
FROM generate_series(1, %(orders)s) AS n
"""


def _seed_existing_orders(orders: int, user_ids: list[int], service: object) -> float:
    """`orders` finished orders of `user_ids` on `service`, then VACUUM ANALYZE of the
    partitions written (what autovacuum does soon after a bulk load); returns the seconds it took."""
    from django.db import connection

    begun = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            EXISTING_ORDERS_SQL,
            {
                "orders": orders,
                "users": "{" + ",".join(map(str, user_ids)) + "}",
                "service": service.pk,  # type: ignore[attr-defined]
                "provider": service.provider_id,  # type: ignore[attr-defined]
            },
        )
    vacuum_analyze_loaded("orders_order")
    return time.perf_counter() - begun


def catalog_and_reseller(services: int, *, username: str) -> tuple[Any, Any, str]:
    """The `add` benchmarks' panel from empty tables: the baseline's table, a catalog of
    `services` imported from a sandbox, and a reseller with ten million on balance; the
    provider, the reseller and its API key."""
    from accounts.services import api_key_create, balance_credit
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.factories import UserFactory

    reset_tables()
    _create_insert_table()
    with SandboxServer(SandboxConfig(services=services, seed=4), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
    user = UserFactory(username=username)
    balance_credit(user_id=user.pk, amount=Decimal(10_000_000), memo="bench")
    return provider, user, api_key_create(user=user)


def run(*, services: int, add_seconds: float, existing_orders: int = 0) -> None:
    from django.test import Client

    from accounts.models import User
    from accounts.services import api_key_create, balance_credit
    from orders.models import Order
    from orders.services import order_place
    from providers.models import Service
    from tests.e2e.processes import VENV_BIN, Process, flush_redis, free_port, wait_until
    from tests.factories import UserFactory

    flush_redis(broker_db())
    provider, user, key = catalog_and_reseller(services, username="apibench")
    # One reseller per client, as on a live panel; a reseller's own orders queue on its
    # balance row's lock (held until the commit), which the one-reseller figure shows.
    keys = [key]
    for number in range(1, CLIENTS):
        reseller = UserFactory(username=f"apibench{number}")
        balance_credit(user_id=reseller.pk, amount=Decimal(10_000_000), memo="bench")
        keys.append(api_key_create(user=reseller))
    service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
    if existing_orders:
        users = list(
            User.objects.filter(username__startswith="apibench").values_list("pk", flat=True)
        )
        took = _seed_existing_orders(existing_orders, users, service)
        note(f"{Order.objects.count()} orders in the table before the run (seeded in {took:.0f} s)")
    ids = [
        order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"@s{n}", "quantity": str(service.min)},
        ).pk
        for n in range(100)
    ]
    client = Client()

    def post(data: dict) -> None:
        response = client.post("/api/v2", data)
        assert response.status_code == 200 and b'"error"' not in response.content[:200], (
            response.content[:200]
        )

    minimal_ms, _ = median_ms(lambda: client.post("/bench/minimal", {}), repeat=200)
    status_ms, status_p95 = median_ms(
        lambda: post({"key": key, "action": "status", "orders": ",".join(map(str, ids))}),
        repeat=100,
    )
    services_ms, services_p95 = median_ms(
        lambda: post({"key": key, "action": "services"}), repeat=20
    )
    note(
        f"in-process server time (Django test client, no network); catalog of {Service.objects.count()} services"
    )
    report("api_minimal_drf_median", minimal_ms, "ms")
    report("api_status_100_ids_median", status_ms, "ms")
    report("api_status_100_ids_p95", status_p95, "ms")
    report("api_services_median", services_ms, "ms")
    report("api_services_p95", services_p95, "ms")

    port = free_port()
    env = worker_env(GUNICORN_WORKERS="4", GUNICORN_THREADS="1")
    web = Process(
        [
            str(VENV_BIN / "gunicorn"),
            "panel.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--env",
            "DJANGO_SETTINGS_MODULE=bench.settings",
        ],
        env,
        "bench-web",
    )
    try:
        wait_until(lambda: _up(f"http://127.0.0.1:{port}/health/"), timeout=30, what="gunicorn")
        before = Order.objects.count()
        add = {"action": "add", "service": service.pk, "link": "https://x.com/p"}
        add["quantity"] = service.min
        rates = _interleaved(
            {
                "minimal": (f"http://127.0.0.1:{port}/bench/minimal", [{}]),
                "insert": (f"http://127.0.0.1:{port}/bench/insert", [{"link": "https://x.com/p"}]),
                "add": (f"http://127.0.0.1:{port}/api/v2", [{**add, "key": k} for k in keys]),
                "add_one_reseller": (f"http://127.0.0.1:{port}/api/v2", [{**add, "key": key}]),
            },
            add_seconds,
        )
    finally:
        web.stop()
    placed = Order.objects.count() - before
    minimal_rps, insert_rps, add_rps = rates["minimal"], rates["insert"], rates["add"]
    note(
        f"gunicorn 4 sync workers, {CLIENTS} client threads, {add_seconds:.0f} s each in "
        f"one-second slices taken in turn; {placed} orders placed ({CLIENTS} resellers, one per "
        "client, then one reseller for all); the fair baseline inserts one row and commits"
    )
    report("api_minimal_drf_rate_gunicorn", minimal_rps, "req/s")
    report("api_insert_one_row_rate_gunicorn", insert_rps, "req/s")
    report("api_add_rate_gunicorn", add_rps, "orders/s")
    report("api_add_rate_one_reseller_gunicorn", rates["add_one_reseller"], "orders/s")
    report("api_add_vs_minimal", add_rps / minimal_rps, "x")
    report("api_add_vs_insert_one_row", add_rps / insert_rps, "x")
    if existing_orders:
        size = (
            f"{existing_orders // 1_000_000}m"
            if existing_orders >= 1_000_000
            else str(existing_orders)
        )
        report(f"api_add_vs_insert_one_row_{size}", add_rps / insert_rps, "x")
    flush_redis(broker_db())


def _create_insert_table() -> None:
    from django.db import connection

    from bench.urls import INSERT_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {INSERT_TABLE}")
        # The columns an order's row would at least have: an id, what was asked, when.
        cursor.execute(
            f"CREATE TABLE {INSERT_TABLE} (id bigserial PRIMARY KEY, link varchar(200) NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
