"""The operator API end to end with a real Celery worker (and its beat) on Redis: actions asked
through /adminapi/v2 are forwarded upstream by the worker and come back as statuses and exact
refunds, and a repeated request acts once."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from accounts.selectors import ledger_mismatches
from operatorapi.services import staff_api_key_create
from orders.models import DispatchState, Order, OrderStatus, Refill, RefillStatus
from orders.services import order_place
from providers.models import Service, ServiceType
from providers.services import catalog_sync, provider_create, provider_pause_dispatch
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


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        services=20,
        seed=5,
        pending_seconds=60,  # orders wait upstream until a test moves them
        run_seconds=1,
        partial_rate=0,
        cancel_rate=0,
        refill_rejected_rate=0,
    )
    with SandboxServer(config, port=0) as server:
        yield server


@pytest.fixture
def worker(transactional_db: None) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        **FAST_PANEL,
    }
    process = celery_worker(env)
    yield process
    process.stop()


def _post(client: Client, key: str, path: str, body: dict, idempotency_key: str) -> dict:
    answer = client.post(
        f"/adminapi/v2/{path}",
        body,
        content_type="application/json",
        HTTP_X_API_KEY=key,
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()["data"]


def _order(pk: int) -> Order:
    return Order.objects.get(pk=pk)


def test_order_actions_through_the_api_are_carried_out_by_a_real_worker(
    sandbox: SandboxServer, worker: Process
) -> None:
    # given the sandbox as provider, a customer and a support bot's key
    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    customer = UserFactory(funds=Decimal(500))
    service = (
        Service.objects.filter(
            provider=provider, type=ServiceType.DEFAULT, has_refill=True, has_cancel=True
        )
        .order_by("pk")
        .first()
    )
    assert service is not None
    support = UserFactory(username="support", is_staff=True, is_superuser=True)
    _, key = staff_api_key_create(owner=support, created_by=support, name="support bot")
    client = Client()

    def placed(link: str) -> Order:
        order = order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": link, "quantity": str(service.min)},
        )
        wait_until(
            lambda: _order(order.pk).dispatch_state == DispatchState.SENT,
            timeout=30,
            what=f"order {order.pk} to be sent",
        )
        return _order(order.pk)

    # when a sent order is canceled through the API (twice: a bot's retry)
    to_cancel = placed("https://instagram.com/p/api-cancel")
    for _ in range(2):
        _post(client, key, f"orders/{to_cancel.pk}/cancel", {}, "cancel-1")

    # then the worker forwards the cancel and the refund follows the provider's answer, once
    wait_until(
        lambda: _order(to_cancel.pk).status == OrderStatus.CANCELED,
        timeout=40,
        what="the cancel to come back",
    )
    to_cancel = _order(to_cancel.pk)
    assert to_cancel.refunded == to_cancel.charge
    assert to_cancel.cancel_requests.count() == 1

    # when a completed order is refilled through the API (upstream work moves on by itself now)
    sandbox_control(sandbox, "config", pending_seconds=0.5)
    to_refill = placed("https://instagram.com/p/api-refill")
    sandbox_control(sandbox, "force", order=int(to_refill.upstream_id), status="Completed")
    wait_until(
        lambda: _order(to_refill.pk).status == OrderStatus.COMPLETED,
        timeout=30,
        what="the order to complete",
    )
    refill_id = _post(client, key, f"orders/{to_refill.pk}/refill", {}, "refill-1")["refill"]

    # then the worker sends the refill upstream and polls it to its end
    wait_until(
        lambda: Refill.objects.get(pk=refill_id).status == RefillStatus.COMPLETED,
        timeout=40,
        what="the refill",
    )
    assert Refill.objects.get(pk=refill_id).upstream_id

    # when an order whose worker was lost before the add is sent again through the API (the
    # provider paused meanwhile, so the forwarding sweep leaves the order to the test)
    provider_pause_dispatch(provider=provider, seconds=3, message="test")
    lost = order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/api-resend", "quantity": str(service.min)},
    )
    assert Order.objects.filter(pk=lost.pk, dispatch_state=DispatchState.QUEUED).update(
        dispatch_state=DispatchState.NEEDS_REVIEW,
        review_reason="worker_lost",
        next_dispatch_at=None,
    )
    _post(client, key, f"orders/{lost.pk}/resend", {"confirmed_absent": True}, "resend-1")

    # then the worker sends it, exactly once
    wait_until(
        lambda: _order(lost.pk).dispatch_state == DispatchState.SENT,
        timeout=30,
        what="the resent order to be sent",
    )
    assert all(count == 1 for count in sandbox_stats(sandbox)["adds_per_link"].values())

    spent = sum(o.charge - o.refunded for o in Order.objects.filter(user=customer))
    assert User.objects.get(pk=customer.pk).balance == Decimal(500) - spent
    assert ledger_mismatches() == []
