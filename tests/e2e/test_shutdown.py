"""A worker stopped with SIGTERM (what `docker stop` and systemd send) finishes what it holds:
an order claimed for forwarding is sent once and recorded, never left in `sending`."""

import os
import signal
from collections.abc import Iterator
from decimal import Decimal

import pytest

from orders.models import DispatchState, Order
from orders.services import forwards_queue, order_place
from providers.models import Service, ServiceType
from providers.services import catalog_sync, provider_create
from sandbox import SandboxConfig, SandboxServer
from tests.e2e.processes import (
    FAST_PANEL,
    Process,
    celery_worker,
    flush_run_broker,
    shared_database_url,
    wait_until,
)
from tests.factories import UserFactory
from tests.support import sandbox_control, sandbox_stats

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# Under the tests' 2 s read timeout, long enough to stop the worker in the middle of it.
ADD_SECONDS = 1.5


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(services=20, products=0, seed=5), port=0) as server:
        yield server


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        **FAST_PANEL,
    }
    process = celery_worker(env, beat=False)
    yield process
    process.stop()


def test_sigterm_lets_a_forward_in_flight_finish_and_record_its_answer(
    sandbox: SandboxServer, worker: Process
) -> None:
    # given an order whose upstream `add` takes a while to answer
    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    service = Service.objects.filter(provider=provider, type=ServiceType.DEFAULT).first()
    assert service is not None
    sandbox_control(sandbox, "config", latency_ms=ADD_SECONDS * 1000)
    customer = UserFactory(funds=Decimal(100))
    order = order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/sigterm", "quantity": str(service.min)},
    )
    forwards_queue()  # what beat does every second; this worker runs without beat

    # when the worker is told to stop while the add is in flight
    wait_until(
        lambda: Order.objects.get(pk=order.pk).dispatch_state == DispatchState.SENDING,
        timeout=20,
        interval=0.05,
        what="the order to be claimed",
    )
    os.kill(worker.popen.pid, signal.SIGTERM)
    exit_code = worker.popen.wait(timeout=60)

    # then it finished the forward before exiting, and the provider got one add
    order.refresh_from_db()
    assert exit_code == 0, worker.output()[-3000:]
    assert order.dispatch_state == DispatchState.SENT
    assert order.upstream_id
    assert sandbox_stats(sandbox)["adds_per_link"] == {"https://instagram.com/p/sigterm": 1}
