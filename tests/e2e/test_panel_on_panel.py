"""Panel on panel: panel B registers panel A (a second instance, its own database, web server,
worker and beat) as its provider, imports A's catalog and sells it on. B's customer orders; B
forwards to A's /api/v2, A forwards to the sandbox, and the status flows back, with both
ledgers right."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from django.db import connection

from accounts.selectors import ledger_mismatches
from orders.models import DispatchState, Order, OrderStatus
from orders.pricing import partial_refund
from orders.services import order_forward, order_place, provider_poll
from providers.models import Provider, Service, ServiceType
from providers.services import catalog_sync, provider_create
from sandbox import SandboxConfig, SandboxServer
from tests.e2e.processes import (
    FAST_PANEL,
    VENV_BIN,
    Process,
    celery_worker,
    flush_redis,
    free_port,
    manage,
    recreate_database,
    redis_db,
    wait_until,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass
class PanelA:
    url: str
    env: dict[str, str]
    reseller_key: str

    def api(self, **fields: str) -> object:
        answer = httpx.post(self.url, data={"key": self.reseller_key, **fields}, timeout=10)
        return json.loads(answer.text, parse_float=Decimal)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        services=40,
        products=6,
        seed=5,
        pending_seconds=0.5,
        run_seconds=1.5,
        partial_rate=1,
        cancel_rate=0,
    )
    with SandboxServer(config, port=0) as server:
        yield server


def _peer_database() -> str:
    """Named after this run's test database, which is the checkout's own (panel/settings_test.py):
    a fixed name would let one checkout's run drop the database under another's."""
    return f"{connection.settings_dict['NAME']}_peer"


@pytest.fixture
def panel_a(sandbox: SandboxServer) -> Iterator[PanelA]:
    port = free_port()
    # The peer's own Redis databases; parallel checkouts give each run its own through the env.
    broker_url = os.environ.get("PANEL_TEST_PEER_BROKER_URL", "redis://127.0.0.1:6379/11")
    cache_url = os.environ.get("PANEL_TEST_PEER_CACHE_URL", "redis://127.0.0.1:6379/10")
    flush_redis(redis_db(broker_url)), flush_redis(redis_db(cache_url))
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "SECRET_KEY": "panel-a-secret-key-for-the-panel-on-panel-test-0123456789",
        "PANEL_ENCRYPTION_KEYS": "wVQ8H0w2oB9bJ8K4kq2mZ3T2pYV7nS6c1dF5gH8jK0E=",
        "DATABASE_URL": recreate_database(os.environ.get("PANEL_TEST_PEER_DB") or _peer_database()),
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": cache_url,
        "EMAIL_URL": "consolemail://",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PANEL_NAME": "Panel A",
        **FAST_PANEL,
    }
    manage(env, "migrate", "--noinput")
    manage(env, "add_provider", "Sandbox", sandbox.url, "sandbox-key", "--markup-percent", "20")
    manage(env, "sync_catalog")
    reseller_key = (
        manage(env, "create_reseller", "panel-b", "--balance", "200.00").strip().splitlines()[-1]
    )
    web = Process(
        [
            str(VENV_BIN / "gunicorn"),
            "panel.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        {**env, "PANEL_WEB_PORT": str(port)},
        "panel-a-web",
    )
    worker = celery_worker(env, name="panel-a-worker")
    try:
        web.wait_for_output("Booting worker", timeout=30)
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/health/"),
            timeout=30,
            what="panel A to answer",
        )
        yield PanelA(url=f"http://127.0.0.1:{port}/api/v2", env=env, reseller_key=reseller_key)
    finally:
        web.stop()
        worker.stop()
    assert "sandbox-key" not in web.output() and reseller_key not in web.output(), (
        "a key reached panel A's log"
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_panel_b_resells_panel_a_and_statuses_and_money_flow_back(
    panel_a: PanelA, sandbox: SandboxServer
) -> None:
    # given panel B (this process) with panel A as its provider
    provider = provider_create(
        name="Panel A",
        api_url=panel_a.url,
        api_key=panel_a.reseller_key,
        markup_percent=Decimal(25),
    )
    summary = catalog_sync(provider=provider)
    assert summary.services.added == 40 and summary.products is not None

    a_services = {item["service"]: item for item in panel_a.api(action="services")}
    service = (
        Service.objects.filter(provider=provider, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    assert service.upstream_rate == Decimal(
        a_services[int(service.upstream_id)]["rate"]
    )  # A's selling price
    assert service.rate == (service.upstream_rate * Decimal("1.25")).quantize(Decimal("0.000001"))

    # when B's customer orders and B forwards to A
    customer = UserFactory(funds=Decimal(100))
    orders = [
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": f"https://instagram.com/p/chain{i}", "quantity": str(service.min * 2)},
        )
        for i in range(3)
    ]
    for order in orders:
        assert order_forward(order_id=order.pk) == "sent"

    # then A forwards to the sandbox by itself, the sandbox ends them Partial, and B's polls bring that back
    def all_final() -> bool:
        provider_poll(provider=Provider.objects.get(pk=provider.pk), max_seconds=10)
        Order.objects.filter(dispatch_state=DispatchState.SENT).update(
            next_poll_at="2000-01-01T00:00:00Z"
        )
        return not Order.objects.exclude(status=OrderStatus.PARTIAL).exists()

    wait_until(all_final, timeout=60, interval=1, what="B's orders to come back Partial through A")

    a_statuses = panel_a.api(
        action="status", orders=",".join(o.upstream_id for o in Order.objects.all())
    )
    a_charges = Decimal(0)
    for order in Order.objects.all():
        a_status = a_statuses[order.upstream_id]
        assert a_status["status"] == "Partial" and int(a_status["remains"]) == order.remains > 0
        assert order.refunded == partial_refund(
            charge=order.charge, remains=order.remains, total_quantity=order.total_quantity
        )
        assert order.cost == Decimal(a_status["charge"])  # what A kept is B's cost
        a_charges += Decimal(a_status["charge"])

    # and both ledgers are right: B's customer paid B's net charges, A's reseller B paid A's
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - sum(
        o.charge - o.refunded for o in Order.objects.all()
    )
    assert ledger_mismatches() == []
    assert Decimal(panel_a.api(action="balance")["balance"]) == Decimal(200) - a_charges
    assert "ledger ok" in manage(panel_a.env, "check_ledger")
    assert all(
        count == 1
        for count in httpx.post(sandbox.control_url("stats"), json={"key": "sandbox-key"})
        .json()["adds_per_link"]
        .values()
    )
