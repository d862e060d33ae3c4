"""One provider that hangs does not hold up the others (docs/scaling.md): with a real worker of
two processes, the orders of a healthy provider are forwarded while every `add` to the other
one hangs, instead of after those calls time out."""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from orders.models import DispatchState, Order
from orders.services import order_place
from providers.models import Provider, Service, ServiceType
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

# The hanging provider's `add` answers after HANG seconds; the panel gives up at READ_TIMEOUT.
# Both are far longer than the wait for the healthy provider's orders, so those orders being
# sent within the wait shows they did not queue behind a call that hangs.
HANG_SECONDS = 300
READ_TIMEOUT = "120"
WAIT_SECONDS = 60


@pytest.fixture
def upstreams() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    with (
        SandboxServer(SandboxConfig(services=10, seed=31), port=0) as hanging,
        SandboxServer(SandboxConfig(services=10, seed=32), port=0) as healthy,
    ):
        yield hanging, healthy


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        **FAST_PANEL,
        "PANEL_TEST_PROVIDER_READ_TIMEOUT": READ_TIMEOUT,
        # The worker has two processes: one provider may hold one of them.
        "PANEL_PROVIDER_FORWARD_SLOTS": "1",
    }
    process = celery_worker(env)
    yield process
    process.stop()


def _provider(name: str, upstream: SandboxServer) -> tuple[Provider, Service]:
    provider = provider_create(name=name, api_url=upstream.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    service = (
        Service.objects.filter(provider=provider, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    assert service is not None
    return provider, service


def test_a_provider_that_hangs_does_not_delay_the_others_orders(
    upstreams: tuple[SandboxServer, SandboxServer], worker: Process
) -> None:
    # given two providers, one of which now holds every `add` without answering
    hanging_upstream, healthy_upstream = upstreams
    hanging, hanging_service = _provider("Hangs", hanging_upstream)
    healthy, healthy_service = _provider("Healthy", healthy_upstream)
    sandbox_control(hanging_upstream, "config", timeout_rate=1, timeout_seconds=HANG_SECONDS)
    customer = UserFactory(funds=Decimal(500))

    # when orders of the hanging provider are placed, and the healthy one's once a call to the
    # hanging one is in flight
    for number in range(6):
        order_place(
            user=customer,
            service_id=hanging_service.pk,
            fields={"link": f"https://x.com/hang{number}", "quantity": str(hanging_service.min)},
        )
    wait_until(
        lambda: sandbox_stats(hanging_upstream)["add_calls"] >= 1,
        timeout=WAIT_SECONDS,
        what="a call to the hanging provider",
        logs=[worker],
    )
    for number in range(3):
        order_place(
            user=customer,
            service_id=healthy_service.pk,
            fields={"link": f"https://x.com/ok{number}", "quantity": str(healthy_service.min)},
        )

    # then the healthy provider's orders are all sent …
    wait_until(
        lambda: (
            Order.objects.filter(provider=healthy, dispatch_state=DispatchState.SENT).count() == 3
        ),
        timeout=WAIT_SECONDS,
        what="the healthy provider's orders to be sent",
        logs=[worker],
    )
    # … while the hanging provider has one call in flight (its one slot) and no answer yet:
    # nothing of it was sent, failed or put in review, the rest wait in `queued`.
    states = list(Order.objects.filter(provider=hanging).values_list("dispatch_state", flat=True))
    assert sorted(states) == [DispatchState.QUEUED] * 5 + [DispatchState.SENDING]
    assert sandbox_stats(hanging_upstream)["add_calls"] == 1
    assert sandbox_stats(healthy_upstream)["add_calls"] == 3
