"""The v2 endpoint: server time of `status` (100 ids) and `services` (10,000 services), and the
sustained `add` rate under gunicorn on PostgreSQL, each beside a minimal DRF endpoint measured
the same way in the same run (the framework's ceiling)."""

import threading
import time
from decimal import Decimal

import httpx

from bench.common import median_ms, note, report, reset_tables


def _load(url: str, data: dict, seconds: float, threads: int) -> tuple[float, int]:
    """Requests per second that answered without an error key, with `threads` clients."""
    done, failed = [0], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop:
                answer = http.post(url, data=data)
                ok = answer.status_code == 200 and "error" not in answer.json()
                with lock:
                    done[0] += ok
                    failed[0] += not ok

    workers = [threading.Thread(target=client) for _ in range(threads)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done[0] / (time.monotonic() - start), failed[0]


def run(*, services: int, add_seconds: float) -> None:
    from django.conf import settings
    from django.test import Client

    from accounts.services import api_key_create, balance_credit
    from orders.models import Order
    from orders.services import order_place
    from providers.models import Service
    from providers.services import catalog_sync, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.e2e.processes import VENV_BIN, Process, flush_redis, free_port, wait_until
    from tests.factories import UserFactory

    reset_tables()
    flush_redis(14)
    with SandboxServer(SandboxConfig(services=services, seed=4), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
    user = UserFactory(username="apibench")
    balance_credit(user_id=user.pk, amount=Decimal(10_000_000), memo="bench")
    key = api_key_create(user=user)
    service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
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
    db = settings.DATABASES["default"]
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_THREADS": "1",
    }
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
        minimal_rps, _ = _load(f"http://127.0.0.1:{port}/bench/minimal", {}, add_seconds, threads=8)
        add_rps, add_failed = _load(
            f"http://127.0.0.1:{port}/api/v2",
            {
                "key": key,
                "action": "add",
                "service": service.pk,
                "link": "https://x.com/p",
                "quantity": service.min,
            },
            add_seconds,
            threads=8,
        )
    finally:
        web.stop()
    placed = Order.objects.count() - before
    note(
        f"gunicorn 4 sync workers, 8 client threads, {add_seconds:.0f} s each; {placed} orders placed, {add_failed} failed answers"
    )
    report("api_minimal_drf_rate_gunicorn", minimal_rps, "req/s")
    report("api_add_rate_gunicorn", add_rps, "orders/s")
    report("api_add_vs_minimal", add_rps / minimal_rps, "x")
    flush_redis(14)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
