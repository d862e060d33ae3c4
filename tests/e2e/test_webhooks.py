"""Webhooks end to end with a real Celery worker (and its beat) on Redis: orders placed through
the service move on at the sandbox, the worker's polls write their statuses, and the worker's
sender posts each event to a receiver on loopback, which checks every signature with its own
code. A failing receiver is retried by the worker until it answers."""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from notifications.models import Channel, Notification, Status, WebhookAttempt, WebhookEvent
from notifications.webhooks.services import webhook_endpoint_create
from orders.models import DispatchState, Order, OrderStatus
from orders.services import order_place
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
from tests.notifications.webhook_receiver import Receiver, independent_check

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        services=20, seed=3, pending_seconds=0.5, run_seconds=1.5, partial_rate=0, cancel_rate=0
    )
    with SandboxServer(config, port=0) as server:
        yield server


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        "PANEL_WEBHOOKS_ALLOW_LOOPBACK": "on",
        "PANEL_WEBHOOKS_SECONDS": "1",
        **FAST_PANEL,
    }
    process = celery_worker(env)
    yield process
    process.stop()


def _all_sent() -> bool:
    """The retry of the failed answer is 30 s away: bring it forward rather than wait."""
    webhooks = Notification.objects.filter(channel=Channel.WEBHOOK)
    webhooks.filter(status=Status.PENDING, attempts__gte=1).update(next_attempt_at=None)
    return webhooks.exists() and not webhooks.exclude(status=Status.SENT).exists()


def test_a_real_worker_posts_signed_events_to_a_loopback_receiver(
    sandbox: SandboxServer, worker: Process, settings: object
) -> None:
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]
    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    service = Service.objects.filter(provider=provider, type=ServiceType.DEFAULT).order_by("pk")[0]
    customer = UserFactory(funds=Decimal(500))

    # the first answer fails: the worker's sender must retry it
    with Receiver(answers=[500, 200]) as receiver:
        _, secret = webhook_endpoint_create(
            user=customer, url=receiver.url(), events=list(WebhookEvent.values)
        )
        orders = [
            order_place(
                user=customer,
                service_id=service.pk,
                fields={"link": f"https://instagram.com/p/hook{i}", "quantity": str(service.min)},
            )
            for i in range(3)
        ]
        wait_until(
            lambda: not Order.objects.exclude(status=OrderStatus.COMPLETED).exists(),
            timeout=90,
            interval=0.5,
            what="every order to complete through the worker",
        )
        wait_until(_all_sent, timeout=60, interval=0.5, what="every webhook to be delivered")

    # then every delivery is signed with the endpoint's secret, checked independently
    assert receiver.received
    for request in receiver.received:
        assert independent_check(secret, request.body, request.headers["X-Panel-Signature"])
    delivered = [json.loads(r.body) for r in receiver.received]
    events = {(e["type"], e["data"]["order"], e["data"]["status"]) for e in delivered}
    for order in orders:
        assert ("order.finished", order.pk, "Completed") in events
        assert ("order.status_changed", order.pk, "Completed") in events
    # one row per event and endpoint, each sent once it answered 2xx; the failed one retried
    rows = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert rows.filter(attempts=1).count() == 1
    assert WebhookAttempt.objects.filter(status_code=500).count() == 1
    assert WebhookAttempt.objects.filter(is_success=True).count() == rows.count()
    assert len({e["id"] for e in delivered}) == rows.count()
    assert all(o.dispatch_state == DispatchState.SENT for o in Order.objects.all())
