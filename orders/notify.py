"""Outbox rows for orders and refills reaching a final status (and the customers' webhooks of
every status change), written in the transaction that writes the status (so a rolled-back status writes none, and a replayed poll, which finds the
row already final, writes none either). One INSERT … ON CONFLICT DO NOTHING per call,
however many rows: polling calls this once per chunk of a thousand."""

from decimal import Decimal
from typing import NamedTuple

from django.db.models import Model

from core.money import ZERO
from notifications.services import Event, notifications_add, order_final_event, refill_final_event
from notifications.webhooks.services import StatusChange, webhooks_for_orders, webhooks_for_refills
from orders.link_waits import link_waits_wake
from orders.models import Order, OrderStatus, Refill, RefillStatus, Source


class Finished(NamedTuple):
    """A row that reached a final status. A named tuple: a poll builds one per finished row."""

    id: int
    user_id: int
    status: str
    refund: Decimal = ZERO
    order_id: int | None = None  # refills: the order refilled
    old_status: str = ""
    source: str = ""  # orders: how it was placed (Source)


def _event(model: type[Model], row: Finished) -> Event | None:
    if model is Order and row.source == Source.API:
        # The reseller's software placed it and follows it (`status`, webhooks): an email per
        # order would be thousands a day to a busy reseller, and an outbox row each to write.
        return None
    if model is Order and row.status in OrderStatus.finals():
        return order_final_event(
            order_id=row.id, user_id=row.user_id, status=row.status, refund=row.refund
        )
    if model is Refill and row.status in RefillStatus.finals() and row.order_id is not None:
        return refill_final_event(
            refill_id=row.id,
            order_id=row.order_id,
            user_id=row.user_id,
            status=row.status,
            refund=row.refund,
        )
    return None  # product orders: no email yet


def _webhooks(model: type[Model], finished: list[Finished], moved: list[StatusChange]) -> None:
    changes = [
        StatusChange(row.id, row.user_id, row.status, row.old_status, is_final=True)
        for row in finished
    ] + moved
    if model is Order:
        webhooks_for_orders(changes=changes)
    elif model is Refill:
        order_ids = {row.id: row.order_id for row in finished if row.order_id is not None}
        webhooks_for_refills(changes=changes, order_ids=order_ids)


def notify_finished_rows(
    model: type[Model], rows: list[Finished], moved: list[StatusChange] | None = None
) -> None:
    """`rows` reached a final status; `moved` (polling only) changed to an open one."""
    notifications_add(events=[e for row in rows if (e := _event(model, row)) is not None])
    _webhooks(model, rows, moved or [])
    if model is Order and rows:
        # Every final status of an order passes here (finish and the polling write): the one
        # place that sees a link freed at a provider.
        link_waits_wake(finished_order_ids=[row.id for row in rows])


def notify_finished(
    model: type[Model], locked: list[dict], new_values: dict[int, dict[str, object]]
) -> None:
    """For a polling write: `locked` are the rows as read under lock (id, user_id, status,
    refunded, …), `new_values` what the write sets on each. Rows whose new status is final
    and differs from the old one are the ones that finished in this write."""
    finished = []
    moved = []
    finals = RefillStatus.finals() if model is Refill else OrderStatus.finals()
    for row in locked:
        values = new_values.get(row["id"]) or {}
        status = values.get("status")
        if status is None or status == row["status"]:
            continue
        if status not in finals:
            change = StatusChange(row["id"], row["user_id"], str(status), row["status"], False)
            moved.append(change)
            continue
        old_refunded = row.get("refunded") or ZERO
        new_refunded = values.get("refunded", old_refunded)
        if not isinstance(new_refunded, Decimal):
            new_refunded = Decimal(str(new_refunded))
        finished.append(
            Finished(
                row["id"],
                row["user_id"],
                str(status),
                new_refunded - old_refunded,
                row.get("order_id"),
                row["status"],
                row.get("source", ""),
            )
        )
    notify_finished_rows(model, finished, moved)
