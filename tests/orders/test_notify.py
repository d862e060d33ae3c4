"""Outbox rows written by the order lifecycle: once per order or refill that ends, in the
transaction that ends it, whatever replays."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from core.money import money_str
from notifications.models import Kind, Notification
from orders.models import DispatchState, Order, OrderStatus, Refill, RefillStatus, Source
from orders.services import order_cancel, order_forward, refill_forward, refill_request
from orders.services.polling import CLAIMED_FIELDS, ORDERS, REFILLS, _apply, _fetch, poll
from providers.models import Provider
from providers.services import provider_client
from sandbox import SandboxServer
from tests.support import order_finalize, sandbox_control


@pytest.fixture
def place(place: Callable[..., Order]) -> Callable[..., Order]:
    """Orders placed on the site: the ones whose end is emailed (API orders are not)."""
    return partial(place, source=Source.WEB)


def test_an_api_orders_end_writes_no_email_row_by_either_path(
    place: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given two orders placed through the API: one ends by polling, one by its own cancel
    polled = place(source=Source.API)
    order_forward(order_id=polled.pk)
    polled.refresh_from_db()
    canceled = place(source=Source.API)
    _force(sandbox, polled, "Completed")
    _make_due()

    # when
    poll(ORDERS, Provider.objects.get())
    order_cancel(user=canceled.user, order_id=canceled.pk)

    # then: both ended, and nobody is emailed about either
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {polled.pk: OrderStatus.COMPLETED, canceled.pk: OrderStatus.CANCELED}
    assert not Notification.objects.filter(kind=Kind.ORDER_FINAL).exists()


def _force(sandbox: SandboxServer, order: Order, status: str, **extra: object) -> None:
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status=status, **extra)


def _make_due() -> None:
    for model in (Order, Refill):
        model.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))


def _rows(model: type, pk: int, spec: object) -> list[dict]:
    return list(
        model.objects.filter(pk=pk).values(
            *CLAIMED_FIELDS,
            *spec.fields,  # type: ignore[attr-defined]
            **spec.computed,  # type: ignore[attr-defined]
        )
    )


def test_orders_that_end_get_one_email_row_each_with_their_refund(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given a completed, a partial (remains 250 of 1000) and a canceled order upstream
    completed, partial, canceled = (sent(quantity=1000) for _ in range(3))
    running = sent(quantity=1000)
    _force(sandbox, completed, "Completed")
    _force(sandbox, partial, "Partial", remains=250)
    _force(sandbox, canceled, "Canceled")
    _force(sandbox, running, "In progress")
    _make_due()

    # when
    poll(ORDERS, Provider.objects.get())

    # then: one row per finished order, none for the one still running
    rows = {n.ref: n for n in Notification.objects.filter(kind=Kind.ORDER_FINAL)}
    assert set(rows) == {completed.pk, partial.pk, canceled.pk}
    assert rows[completed.pk].payload == {
        "order_id": completed.pk,
        "status": "Completed",
        "refund": "0",
    }
    assert Decimal(rows[partial.pk].payload["refund"]) == partial.charge / 4
    assert Decimal(rows[canceled.pk].payload["refund"]) == canceled.charge
    assert rows[partial.pk].key == f"order-final:{partial.pk}"
    assert rows[partial.pk].user_id == partial.user_id and rows[partial.pk].channel == "email"


def test_a_replayed_poll_answer_writes_no_second_row(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = sent(quantity=1000)
    _force(sandbox, order, "Partial", remains=300)
    provider = Provider.objects.get()
    rows = _rows(Order, order.pk, ORDERS)
    answers = _fetch(ORDERS, provider_client(provider), rows)

    _apply(ORDERS, provider, rows, answers)
    _apply(ORDERS, provider, rows, answers)  # the same answer again, as a late duplicate task would
    order_finalize(order_id=order.pk, status=OrderStatus.CANCELED, actor="admin")  # already final

    assert Notification.objects.filter(key=f"order-final:{order.pk}").count() == 1
    assert Notification.objects.count() == 1


def test_a_poll_chunk_writes_its_rows_in_one_insert(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given 12 orders that all completed upstream
    orders = [sent(quantity=1000) for _ in range(12)]
    for order in orders:
        _force(sandbox, order, "Completed")
    provider = Provider.objects.get()
    rows = [row for order in orders for row in _rows(Order, order.pk, ORDERS)]
    answers = _fetch(ORDERS, provider_client(provider), rows)

    # when
    with CaptureQueriesContext(connection) as queries:
        _apply(ORDERS, provider, rows, answers)

    # then: 12 rows, written by a single statement
    inserts = [
        q
        for q in queries.captured_queries
        if 'INSERT INTO "notifications_notification"' in q["sql"]
    ]
    assert len(inserts) == 1
    assert Notification.objects.filter(kind=Kind.ORDER_FINAL).count() == 12


def test_a_canceled_queued_order_gets_its_row_from_the_single_order_path(
    place: Callable[..., Order],
) -> None:
    order = place(quantity=1000)
    from orders.services import order_cancel

    order_cancel(user=order.user, order_id=order.pk)

    row = Notification.objects.get(kind=Kind.ORDER_FINAL)
    assert row.payload["status"] == "Canceled" and Decimal(row.payload["refund"]) == order.charge


def test_a_refill_that_ends_gets_one_row(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    # given a completed order with a refill sent upstream
    order = sent(quantity=1000, has_refill=True)
    _force(sandbox, order, "Completed")
    _make_due()
    poll(ORDERS, Provider.objects.get())
    refill = refill_request(user=order.user, order_id=order.pk, source=Source.API)
    assert refill_forward(refill_id=refill.pk) == "sent"
    refill.refresh_from_db()
    sandbox_control(sandbox, "force", refill=int(refill.upstream_id), status="Completed")
    _make_due()

    # when polled twice
    poll(REFILLS, Provider.objects.get())
    _make_due()
    poll(REFILLS, Provider.objects.get())

    # then
    refill.refresh_from_db()
    assert refill.status == RefillStatus.COMPLETED
    row = Notification.objects.get(kind=Kind.REFILL_FINAL)
    assert row.payload == {
        "refill_id": refill.pk,
        "order_id": order.pk,
        "status": "Completed",
        "refund": "0",
    }


@override_settings(PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="-100")
def test_needs_review_events_become_one_operator_alert_each(
    sent: Callable[..., Order],
) -> None:
    from orders.alerts import needs_review_alerts_collect
    from orders.lifecycle.events import event_record

    # given two orders handed to a person
    orders = [sent(quantity=1000) for _ in range(2)]
    for order in orders:
        Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.NEEDS_REVIEW)
        event_record(
            order,
            field="dispatch",
            old="sent",
            new=DispatchState.NEEDS_REVIEW,
            message="Outcome unknown",
            actor="worker",
        )

    # when the collector runs twice
    needs_review_alerts_collect()
    needs_review_alerts_collect()

    # then
    alerts = Notification.objects.filter(kind=Kind.OPS_NEEDS_REVIEW).order_by("id")
    assert [a.payload["id"] for a in alerts] == [o.pk for o in orders]
    assert all(a.channel == "telegram" for a in alerts)


def test_operator_alerts_are_not_written_while_telegram_is_off(
    sent: Callable[..., Order],
) -> None:
    from orders.alerts import needs_review_alerts_collect
    from orders.lifecycle.events import event_record

    order = sent(quantity=1000)
    event_record(order, field="dispatch", new=DispatchState.NEEDS_REVIEW, actor="worker")

    needs_review_alerts_collect()

    assert not Notification.objects.exists()


def test_a_refill_the_provider_rejects_at_once_gets_its_row(
    sent: Callable[..., Order],
) -> None:
    # given a completed order whose provider refuses refills (upstream it is still running)
    order = sent(quantity=1000, has_refill=True)
    order_finalize(order_id=order.pk, status=OrderStatus.COMPLETED, actor="poller")
    refill = refill_request(user=order.user, order_id=order.pk, source=Source.API)

    assert refill_forward(refill_id=refill.pk) == "failed"

    row = Notification.objects.get(kind=Kind.REFILL_FINAL)
    # The refill ends refunded: every unit the order delivered, its whole charge.
    assert row.payload == {
        "refill_id": refill.pk,
        "order_id": order.pk,
        "status": "Rejected",
        "refund": money_str(order.charge),
    }
