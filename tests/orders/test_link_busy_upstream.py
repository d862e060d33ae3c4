"""A provider answering "You have active order with this link" to `add` (docs/protocol.md, provider
busy): the refusal provably did not land, so the order waits queued and goes again after
PANEL_LINK_BUSY_RETRY_SECONDS, or as soon as the panel's own order on that link finishes there.
Never failed, never refunded, never in review. The sandbox's per-link check answers it."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from orders.models import DispatchState, Order, OrderStatus
from orders.services import dispatch_sweep, forwards_queue, order_forward, provider_poll
from providers.models import Provider, Service, ServiceType
from sandbox import SandboxServer
from tests.support import sandbox_control

BUSY = "You have active order with this link. Please wait until order being completed."
LINK = "https://instagram.com/p/Busy1"


@pytest.fixture
def service(catalog: Provider, sandbox: SandboxServer) -> Service:
    """A service that lets the panel place two orders on one link (its own rule off), at a
    provider that refuses the second while the first runs."""
    service = Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk")[0]
    Service.objects.filter(pk=service.pk).update(is_one_order_per_link=False)
    sandbox_control(sandbox, "config", is_one_order_per_link=True, pending_seconds=3600)
    return Service.objects.get(pk=service.pk)


def _bought_upstream(sandbox: SandboxServer) -> int:
    return sum(order.link == LINK for order in sandbox.state.orders.values())


def _two_on_one_link(place: Callable[..., Order], service: Service) -> tuple[Order, Order]:
    first, second = place(service=service, link=LINK), place(service=service, link=LINK)
    assert order_forward(order_id=first.pk) == "sent"
    first.refresh_from_db()
    return first, second


@override_settings(PANEL_LINK_BUSY_RETRY_SECONDS=42)
def test_a_busy_link_upstream_keeps_the_order_queued_for_the_configured_time(
    place: Callable[..., Order], service: Service, customer: User, sandbox: SandboxServer
) -> None:
    # given
    first, second = _two_on_one_link(place, service)
    before = timezone.now()

    # when
    assert order_forward(order_id=second.pk) == "waiting"

    # then: queued with a next-attempt time, nothing failed, refunded or flagged
    second.refresh_from_db()
    assert (second.status, second.dispatch_state, second.review_reason) == (
        OrderStatus.PENDING,
        DispatchState.QUEUED,
        "",
    )
    assert second.dispatch_error == BUSY and second.refunded == Decimal(0)
    assert before + timedelta(seconds=42) <= second.next_dispatch_at
    assert second.next_dispatch_at <= timezone.now() + timedelta(seconds=42 * 1.2 + 1)
    assert not BalanceTransaction.objects.filter(order_id=second.pk, kind="refund").exists()
    assert Provider.objects.get().dispatch_paused_until is None  # only this link waits
    assert _bought_upstream(sandbox) == 1

    # and the sweeps leave it waiting until its time, then send it again (still busy: waits again)
    dispatch_sweep(now=timezone.now())
    second.refresh_from_db()
    assert second.dispatch_state == DispatchState.QUEUED
    Order.objects.filter(pk=second.pk).update(next_dispatch_at=timezone.now())
    assert order_forward(order_id=second.pk) == "waiting"
    second.refresh_from_db()
    assert (second.status, second.dispatch_state, second.dispatch_attempts) == (
        OrderStatus.PENDING,
        DispatchState.QUEUED,
        2,
    )
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - first.charge - second.charge


def test_the_wait_ends_when_the_panels_own_order_on_the_link_finishes_upstream(
    place: Callable[..., Order],
    service: Service,
    sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    # given an order waiting for the link, and another waiting on another link
    first, second = _two_on_one_link(place, service)
    assert order_forward(order_id=second.pk) == "waiting"
    elsewhere = place(service=service, link="https://instagram.com/p/Other")
    Order.objects.filter(pk=elsewhere.pk).update(
        dispatch_error=BUSY, next_dispatch_at=timezone.now() + timedelta(hours=1)
    )

    # when the first finishes upstream and the poller sees it
    sandbox_control(sandbox, "force", order=int(first.upstream_id), status="Completed")
    Order.objects.filter(pk=first.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    provider_poll(provider=Provider.objects.get())

    # then the waiting order is due now, the other link's still waits, and it goes through
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == OrderStatus.COMPLETED
    assert second.next_dispatch_at <= timezone.now()
    assert Order.objects.get(pk=elsewhere.pk).next_dispatch_at > timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        assert forwards_queue()["Order"] == 1
    assert order_forward(order_id=second.pk) == "sent"
    assert _bought_upstream(sandbox) == 2


def test_the_sandbox_check_is_off_until_switched_on(
    place: Callable[..., Order], catalog: Provider, sandbox: SandboxServer
) -> None:
    service = Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk")[0]
    Service.objects.filter(pk=service.pk).update(is_one_order_per_link=False)
    first, second = place(service=service, link=LINK), place(service=service, link=LINK)

    assert order_forward(order_id=first.pk) == "sent"
    assert order_forward(order_id=second.pk) == "sent"
    assert sandbox_control(sandbox, "config")["is_one_order_per_link"] is False
