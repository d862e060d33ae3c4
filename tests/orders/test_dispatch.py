from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from orders.lifecycle import Kind, Resolution
from orders.models import DispatchState, Order, OrderStatus
from orders.services import (
    Answer,
    dispatch_sweep,
    forwards_queue,
    order_cancel,
    order_forward,
    review_resolve,
)
from providers.models import Provider, Service, ServiceType
from sandbox import SandboxConfig, SandboxServer
from tests.support import sandbox_control, sandbox_stats

QUEUED, SENDING, SENT, FAILED, REVIEW = (
    DispatchState.QUEUED,
    DispatchState.SENDING,
    DispatchState.SENT,
    DispatchState.FAILED,
    DispatchState.NEEDS_REVIEW,
)


def _refunded(order: Order) -> Decimal:
    return sum(
        BalanceTransaction.objects.filter(order_id=order.pk, kind="refund").values_list(
            "amount", flat=True
        ),
        Decimal(0),
    )


def test_forward_sends_add_once_and_stores_the_upstream_id(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = place(link="https://instagram.com/p/once")

    assert order_forward(order_id=order.pk) == "sent"
    assert order_forward(order_id=order.pk) == "skipped"  # a replayed task finds nothing to claim

    order.refresh_from_db()
    assert order.dispatch_state == SENT and order.upstream_id and order.dispatch_attempts == 1
    assert order.next_poll_at > timezone.now()
    assert sandbox_stats(sandbox)["adds_per_link"] == {"https://instagram.com/p/once": 1}
    assert list(order.events.values_list("field", "new_value")) == [
        ("status", "Pending"),
        ("dispatch", "sending"),
        ("dispatch", "sent"),
    ]


def test_forward_sends_each_types_own_fields(
    customer: User, service_of: Callable[..., Service], sandbox: SandboxServer
) -> None:
    from orders.services import order_place

    service = service_of(ServiceType.CUSTOM_COMMENTS)
    order = order_place(
        user=customer,
        service_id=service.pk,
        fields={
            "link": "https://x.com/c",
            "comments": "\n".join(f"c{i}" for i in range(service.min)),
        },
    )

    assert order_forward(order_id=order.pk) == "sent"
    upstream = sandbox.state.orders[int(Order.objects.get(pk=order.pk).upstream_id)]
    assert upstream.quantity == service.min


def test_concurrent_forwards_of_one_order_buy_it_once(
    transactional_db: None, sandbox: SandboxServer
) -> None:
    from orders.services import order_place
    from providers.services import catalog_sync, provider_create
    from tests.factories import UserFactory

    provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
    catalog_sync(provider=provider)
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    order = order_place(
        user=UserFactory(funds=Decimal(50)),
        service_id=service.pk,
        fields={"link": "@race", "quantity": str(service.min)},
    )

    def forward(_: int) -> str:
        try:
            return order_forward(order_id=order.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(forward, range(6)))

    assert results.count("sent") <= 1
    if "sent" not in results:
        # Under load every call that held one of the provider's slots can find the row made
        # due later by a call that held none (it leaves the row queued, due again shortly):
        # nothing was bought, and the next forward once it is due buys it.
        assert "waiting" in results
        assert Order.objects.get(pk=order.pk).dispatch_state == DispatchState.QUEUED
        Order.objects.filter(pk=order.pk).update(next_dispatch_at=timezone.now())
        assert order_forward(order_id=order.pk) == "sent"
    assert sandbox_stats(sandbox)["adds_per_link"]["@race"] == 1


@pytest.fixture
def short_timeouts(settings: object) -> None:
    settings.PANEL_PROVIDER_READ_TIMEOUT = 0.5  # type: ignore[attr-defined]


@pytest.mark.usefixtures("short_timeouts")
@pytest.mark.parametrize(
    "fault",
    [{"timeout_rate": 1, "timeout_seconds": 2}, {"error_5xx_rate": 1}, {"non_json_rate": 1}],
)
def test_unknown_outcome_goes_to_review_and_is_never_resent(
    place: Callable[..., Order], sandbox: SandboxServer, fault: dict
) -> None:
    order = place(link="https://instagram.com/p/unknown")
    sandbox_control(sandbox, "config", **fault)

    assert order_forward(order_id=order.pk) == "needs_review"
    dispatch_sweep(now=timezone.now() + timedelta(hours=2))
    assert order_forward(order_id=order.pk) == "skipped"

    order.refresh_from_db()
    assert order.dispatch_state == REVIEW and order.status == OrderStatus.PENDING
    assert order.charge > 0 and _refunded(order) == 0  # the money waits with the order
    assert sandbox_stats(sandbox)["adds_per_link"]["https://instagram.com/p/unknown"] == 1


def test_rejected_order_fails_and_is_refunded_in_full(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = place()
    sandbox_control(sandbox, "remove", services=[int(order.service.upstream_id)])

    assert order_forward(order_id=order.pk) == "failed"

    order.refresh_from_db()
    assert (order.dispatch_state, order.status, order.refunded) == (
        FAILED,
        OrderStatus.CANCELED,
        order.charge,
    )
    assert _refunded(order) == order.charge
    assert "Incorrect service ID" in order.dispatch_error


@pytest.mark.parametrize("fault", [{"no_funds_rate": 1}, {"leaked_key_rate": 1}])
def test_busy_or_rejecting_provider_keeps_money_consistent(
    place: Callable[..., Order], sandbox: SandboxServer, fault: dict
) -> None:
    order = place()
    sandbox_control(sandbox, "config", **fault)

    outcome = order_forward(order_id=order.pk)

    order.refresh_from_db()
    if outcome == "waiting":
        assert order.dispatch_state == QUEUED and order.refunded == 0
    else:
        assert outcome == "failed" and order.refunded == order.charge


def test_busy_provider_orders_wait_then_go(
    place: Callable[..., Order],
    sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    first, second = place(), place()
    sandbox_control(sandbox, "config", no_funds_rate=1)

    assert order_forward(order_id=first.pk) == "waiting"
    assert order_forward(order_id=second.pk) == "waiting"  # the provider is paused: no second call
    provider = Provider.objects.get()
    assert (
        provider.dispatch_paused_until > timezone.now()
        and "Not enough funds" in provider.last_error
    )
    assert sandbox_stats(sandbox)["add_calls"] == 1

    # the provider is topped up; once the pause is over the sweeper sends both
    sandbox_control(sandbox, "config", no_funds_rate=0)
    later = timezone.now() + timedelta(minutes=10)
    Provider.objects.update(dispatch_paused_until=timezone.now() - timedelta(seconds=1))
    Order.objects.update(next_dispatch_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=False):
        counts = dispatch_sweep(now=later)
    assert counts["Order"] == 2
    assert (
        order_forward(order_id=first.pk) == "sent" and order_forward(order_id=second.pk) == "sent"
    )


def test_unreachable_provider_is_retried_later_with_backoff(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = place(link="@retry")
    Provider.objects.update(api_url="http://127.0.0.1:9/api/v2")

    assert order_forward(order_id=order.pk) == "retry"
    order.refresh_from_db()
    assert order.dispatch_state == QUEUED and order.dispatch_attempts == 1
    assert order.next_dispatch_at > timezone.now() + timedelta(seconds=14)
    assert order_forward(order_id=order.pk) == "skipped"  # not before its time

    Provider.objects.update(api_url=sandbox.url)
    Order.objects.filter(pk=order.pk).update(next_dispatch_at=timezone.now())
    assert order_forward(order_id=order.pk) == "sent"
    assert sandbox_stats(sandbox)["adds_per_link"]["@retry"] == 1


def test_refused_key_stops_the_provider_until_checked(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = place()
    provider = Provider.objects.get()
    provider.api_key = "wrong"
    provider.save()

    assert order_forward(order_id=order.pk) == "waiting"
    provider.refresh_from_db()
    assert provider.credentials_failed_at is not None
    assert dispatch_sweep(now=timezone.now() + timedelta(hours=1))["Order"] == 0


def test_sweeper_flags_orders_stuck_in_sending_and_never_resends(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = place()
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=SENDING, sending_started_at=timezone.now() - timedelta(hours=1)
    )

    dispatch_sweep()

    order.refresh_from_db()
    assert order.dispatch_state == REVIEW
    assert sandbox_stats(sandbox)["add_calls"] == 0


def test_sweeper_requeues_orders_whose_task_was_lost(
    place: Callable[..., Order], django_capture_on_commit_callbacks: Callable
) -> None:
    fresh, lost = place(), place()
    Order.objects.filter(pk=lost.pk).update(next_dispatch_at=timezone.now() - timedelta(minutes=5))

    from unittest import mock

    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        counts = dispatch_sweep()
    assert counts["Order"] == 1
    publish.assert_called_once_with((lost.pk,), queue=f"forward.{lost.provider_id % 16}")
    assert fresh.pk != lost.pk


def test_sweeper_queues_a_lost_task_once_until_its_mark_expires(
    place: Callable[..., Order],
) -> None:
    """While workers are down, each sweep used to queue another copy of every queued row's task;
    after a restart polls waited behind hundreds of no-op forwards (docs/reliability.md)."""
    lost = place()
    Order.objects.filter(pk=lost.pk).update(next_dispatch_at=timezone.now() - timedelta(minutes=5))

    from unittest import mock

    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        sweeps = [dispatch_sweep()["Order"] for _ in range(3)]
        cache.clear()  # the mark expired: the task was lost
        sweeps.append(dispatch_sweep()["Order"])

    assert sweeps == [1, 0, 0, 1]
    assert publish.call_count == 2


def test_forwarding_sweep_queues_a_new_order_at_once_and_only_once(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    """Placing publishes nothing; beat's forwarding sweep (every PANEL_FORWARD_SWEEP_SECONDS)
    queues the forward of every new order, with no grace period."""
    order = place(link="https://instagram.com/p/swept-once")

    from unittest import mock

    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        sweeps = [forwards_queue()["Order"] for _ in range(3)]

    assert sweeps == [1, 0, 0]  # later sweeps see the mark and leave it to its task
    publish.assert_called_once_with((order.pk,), queue=f"forward.{order.provider_id % 16}")
    assert order_forward(order_id=order.pk) == "sent"
    assert forwards_queue()["Order"] == 0
    assert sandbox_stats(sandbox)["adds_per_link"] == {"https://instagram.com/p/swept-once": 1}


def test_forwarding_sweep_queues_a_retried_order_when_its_new_time_comes(
    place: Callable[..., Order],
) -> None:
    # given an order whose first forward was queued, then found the provider unreachable
    order = place()
    from unittest import mock

    with mock.patch("orders.tasks.order_forward_task.apply_async"):
        forwards_queue()
    # (what _requeue writes when the request provably did not land)
    Order.objects.filter(pk=order.pk).update(
        next_dispatch_at=timezone.now() + timedelta(seconds=15)
    )

    # when the sweep runs before and after the retry time, the first mark still fresh
    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        early = forwards_queue()["Order"]
        due = forwards_queue(now=timezone.now() + timedelta(seconds=16))["Order"]

    # then it is queued once its time comes, not when the first mark expires
    assert (early, due) == (0, 1)
    publish.assert_called_once_with((order.pk,), queue=f"forward.{order.provider_id % 16}")


def test_forwarding_sweep_leaves_orders_of_a_paused_provider(
    place: Callable[..., Order],
) -> None:
    place()
    Provider.objects.update(dispatch_paused_until=timezone.now() + timedelta(minutes=2))

    from unittest import mock

    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        assert forwards_queue()["Order"] == 0
    publish.assert_not_called()


def test_beat_runs_the_forwarding_sweep_every_second() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["orders-forward"]
    assert entry["task"] == "orders.tasks.forwards_queue_task"
    assert (
        entry["schedule"]
        == timedelta(seconds=1)
        == timedelta(seconds=settings.PANEL_FORWARD_SWEEP_SECONDS)
    )


def test_admin_resolutions_of_an_order_in_review(
    place: Callable[..., Order], staff: User, sandbox: SandboxServer
) -> None:
    found, resend, cancel = place(), place(), place()
    Order.objects.update(dispatch_state=REVIEW, review_reason="add_unknown")

    def resolve(order: Order, resolution: str, answer: Answer | None = None) -> None:
        review_resolve(
            kind=Kind.ORDER,
            pk=order.pk,
            resolution=resolution,
            admin=staff,
            answer=answer or Answer(),
        )

    resolve(found, Resolution.ATTACH_UPSTREAM_ID, Answer(upstream_id="777"))
    resolve(resend, Resolution.SEND_AGAIN, Answer(confirmed_absent=True))
    resolve(cancel, Resolution.CANCEL_REFUND)

    found.refresh_from_db(), resend.refresh_from_db(), cancel.refresh_from_db()
    assert (found.dispatch_state, found.upstream_id) == (SENT, "777")
    assert resend.dispatch_state == QUEUED and order_forward(order_id=resend.pk) == "sent"
    assert (cancel.dispatch_state, cancel.status, cancel.refunded) == (
        FAILED,
        OrderStatus.CANCELED,
        cancel.charge,
    )
    assert found.events.filter(actor="admin", actor_user=staff).exists()


def test_canceling_a_queued_order_refunds_at_once_and_it_is_never_sent(
    place: Callable[..., Order], customer: User, sandbox: SandboxServer
) -> None:
    order = place()

    order_cancel(user=customer, order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.dispatch_state, order.refunded) == (
        OrderStatus.CANCELED,
        FAILED,
        order.charge,
    )
    assert order_forward(order_id=order.pk) == "skipped"
    assert sandbox_stats(sandbox)["add_calls"] == 0
    customer.refresh_from_db()
    assert customer.balance == Decimal(100)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(key="sandbox-key", services=40, products=6, seed=7)


def test_a_busy_link_waits_alone_and_does_not_pause_the_provider(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    from unittest import mock

    from providers.client.messages import LINK_DUPLICATE
    from providers.errors import ProviderBusy

    order = place()
    with mock.patch(
        "providers.client.ProviderClient.add",
        side_effect=ProviderBusy(LINK_DUPLICATE, action="add"),
    ):
        assert order_forward(order_id=order.pk) == "waiting"

    order.refresh_from_db()
    assert order.dispatch_state == QUEUED and order.next_dispatch_at > timezone.now() + timedelta(
        minutes=9
    )
    assert Provider.objects.get().dispatch_paused_until is None


def test_an_upstream_id_already_taken_is_kept_for_review(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    from unittest import mock

    first, second = place(), place()
    assert order_forward(order_id=first.pk) == "sent"
    first.refresh_from_db()
    with mock.patch("providers.client.ProviderClient.add", return_value=first.upstream_id):
        assert order_forward(order_id=second.pk) == "needs_review"

    second.refresh_from_db()
    assert second.dispatch_state == REVIEW and first.upstream_id in second.dispatch_error


def test_cancel_and_refund_refuses_an_order_that_is_already_final(
    place: Callable[..., Order], staff: User
) -> None:
    from orders.errors import InvalidTransition

    order = place()
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=REVIEW, status=OrderStatus.COMPLETED, review_reason="add_unknown"
    )

    for resolution, answer in (
        (Resolution.CANCEL_REFUND, Answer()),
        (Resolution.SEND_AGAIN, Answer(confirmed_absent=True)),
    ):
        with pytest.raises(InvalidTransition):
            review_resolve(
                kind=Kind.ORDER, pk=order.pk, resolution=resolution, admin=staff, answer=answer
            )
    assert _refunded(order) == 0


def test_a_cancel_the_provider_answers_with_zero_is_rejected(
    sent: Callable[..., Order], customer: User
) -> None:
    from unittest import mock

    from orders.services import cancel_forward

    order = sent(has_cancel=True)
    order_cancel(user=customer, order_id=order.pk)
    request = order.cancel_requests.get()
    with mock.patch(
        "providers.client.ProviderClient.cancel", return_value={order.upstream_id: False}
    ):
        assert cancel_forward(cancel_request_id=request.pk) == "failed"
    request.refresh_from_db()
    assert request.outcome == "rejected"
