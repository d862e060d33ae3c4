"""Polling shared between pollers and lanes: each order is asked about, written and refunded
once, whoever takes which chunk; and the provider's calls in flight stay within its setting."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from accounts.models import BalanceTransaction
from orders import tasks
from orders.models import Order, OrderEvent
from orders.services import order_forward, order_place
from orders.services.polling import engine, poll_concurrency, provider_poll
from providers.models import Provider
from sandbox import SandboxConfig, SandboxServer
from tests.support import sandbox_stats


@pytest.mark.django_db(transaction=True)
def test_pollers_sharing_a_round_poll_write_and_refund_each_order_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given 60 sent orders that all ended Partial upstream, claimed ten at a time
    from providers.services import catalog_sync, provider_create
    from tests.factories import UserFactory

    monkeypatch.setattr(engine, "CHUNK_SIZE", 10)
    with SandboxServer(
        SandboxConfig(
            services=40, seed=7, partial_rate=1, cancel_rate=0, pending_seconds=0, run_seconds=0
        ),
        port=0,
    ) as server:
        provider = provider_create(name="Sandbox", api_url=server.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
        service = provider.service_set.filter(type="Default").order_by("pk").first()
        user = UserFactory(funds=Decimal(1000))
        for number in range(60):
            order = order_place(
                user=user, service_id=service.pk, fields={"link": f"@p{number}", "quantity": "200"}
            )
            order_forward(order_id=order.pk)
        Order.objects.update(next_poll_at=Order.objects.values("sent_at")[:1])

        # when two pollers, each with two lanes, share the round
        def share(_: int) -> None:
            try:
                provider_poll(provider=provider, shares=2)
            finally:
                connection.close()

        with override_settings(PANEL_POLL_LANES=2), ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(share, range(2)))
        stats = sandbox_stats(server)

    # then every order was asked about once, moved once and refunded once
    assert (stats["status_ids"], stats["status_ids_repeated"]) == (60, 0)
    assert Order.objects.filter(status="Partial").count() == 60
    moves = OrderEvent.objects.filter(field="status", actor="poller")
    assert moves.count() == 60 == moves.values("order_id").distinct().count()
    refunds = BalanceTransaction.objects.filter(kind="refund")
    assert refunds.count() == 60 == refunds.values("order_id").distinct().count()


@pytest.mark.django_db
@override_settings(PANEL_POLL_CONCURRENCY=8)
def test_calls_in_flight_are_the_providers_setting_split_between_its_pollers() -> None:
    provider = Provider(name="p", api_url="https://example.com/api/v2")

    assert poll_concurrency(provider) == 8  # no setting of its own: the panel's default
    provider.poll_concurrency = 16
    assert [poll_concurrency(provider, shares=n) for n in (1, 2, 4, 32)] == [16, 8, 4, 1]


@pytest.mark.django_db
@override_settings(PANEL_POLL_TASKS_PER_PROVIDER=3)
def test_a_poll_round_queues_one_task_per_share_of_each_provider(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        tasks.provider_poll_task, "apply_async", lambda args, queue: queued.append((*args, queue))
    )

    tasks.orders_poll_all_task()

    # all on the provider's own poll queue (orders.enqueue.provider_queue)
    queue = f"poll.{provider.pk % 16}"
    assert queued == [
        (provider.pk, 0, 3, queue),
        (provider.pk, 1, 3, queue),
        (provider.pk, 2, 3, queue),
    ]
