"""What polling does with each kind's answers: orders, refills and product orders. The engine
(`engine.py`) claims, fetches and writes; these say what changed and what a final status costs."""

import logging
from datetime import datetime
from decimal import Decimal

from django.db.models import Model, Q

from accounts.models import BalanceTransaction
from accounts.services import Credit
from core.money import ZERO
from orders import pricing
from orders.models import (
    FINAL_ORDER_STATUSES,
    FINAL_PRODUCT_ORDER_STATUSES,
    FINAL_REFILL_STATUSES,
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
)
from orders.services.events import Actor, event_values
from orders.services.finalize import order_refund_due, product_refund_due
from orders.services.polling.engine import PollSpec, _Changes
from providers.client import (
    UpstreamOrderStatus,
    UpstreamProductOrderStatus,
)
from providers.models import PACKAGE_TYPES

logger = logging.getLogger(__name__)

# --- Orders ----------------------------------------------------------------------------------


def _int_or_keep(value: int | None, current: object) -> object:
    return current if value is None else value


# Enum `.values` builds a new list on every read; compare answers against these sets instead.
_ORDER_STATUSES = frozenset(OrderStatus.values)
_REFILL_STATUSES = frozenset(RefillStatus.values)
_PRODUCT_ORDER_STATUSES = frozenset(ProductOrderStatus.values)

# Statuses some providers send beyond the protocol's six (subscriptions, refunds), read as the
# nearest protocol status. Anything else unknown is handed to a person after a few polls.
_ORDER_STATUS_ALIASES = {
    "active": OrderStatus.IN_PROGRESS,
    "paused": OrderStatus.IN_PROGRESS,
    "expired": OrderStatus.COMPLETED,
    "refunded": OrderStatus.CANCELED,
    "refund": OrderStatus.CANCELED,
}


def _compare_order(row: dict, answer: UpstreamOrderStatus) -> dict[str, object]:
    status = _ORDER_STATUS_ALIASES.get(answer.status.strip().lower(), answer.status)
    if status not in _ORDER_STATUSES:
        return {"_unknown_status": answer.status}
    new: dict[str, object] = {}
    if status != row["status"]:
        new["status"] = status
    for name in ("remains", "start_count"):
        value = _int_or_keep(getattr(answer, name), row[name])
        if value != row[name]:
            new[name] = value
    if answer.charge is not None:
        cost = pricing.converted(amount=answer.charge, exchange_rate=row["exchange_rate"])
        if cost != row["cost"]:
            new["cost"] = cost
    if new:
        # What this very answer said, for the refund of a Partial: a remembered remains is stale.
        new["_remains_reported"] = answer.remains is not None
        new["_upstream_charge"] = answer.charge
    return new


def _partial_refund_without_remains(row: dict, upstream_charge: Decimal | None) -> Decimal | None:
    """A Partial whose answer gave no remains: refund the share upstream did not charge for,
    or None when there is no charge either (nothing tells what was delivered)."""
    expected = pricing.upstream_cost(
        upstream_rate=row["upstream_rate"],
        units=row["total_quantity"],
        is_package=row["service__type"] in PACKAGE_TYPES,
        exchange_rate=row["exchange_rate"],
    )
    if upstream_charge is None or expected <= ZERO:
        return None
    charged = pricing.converted(amount=upstream_charge, exchange_rate=row["exchange_rate"])
    refund = pricing.undelivered_share_refund(
        charge=row["charge"], upstream_charge=charged, upstream_expected=expected
    )
    return max(refund - row["refunded"], ZERO)


def _hand_over(
    changes: _Changes, events: list[dict[str, object]], row: dict, model: type[Model], message: str
) -> None:
    """Keep the row's status, stop polling it, and leave the decision to a person."""
    changes.set(row["id"], "status", row["status"])
    changes.set(row["id"], "dispatch_state", DispatchState.NEEDS_REVIEW)
    changes.set(row["id"], "dispatch_error", message[:500])
    events.append(
        event_values(
            row["id"],
            target_model=model,
            field="dispatch",
            old=DispatchState.SENT,
            new=DispatchState.NEEDS_REVIEW,
            message=message,
            actor=Actor.POLLER,
        )
    )


def _finish_row(
    changes: _Changes,
    credits: list[Credit],
    row: dict,
    status: str,
    refund: Decimal,
    now: datetime,
    *,
    ledger_ref: str,
    label: str,
) -> None:
    """A row reaching a final status: its finish time, and its refund as a ledger credit."""
    changes.set(row["id"], "finished_at", now)
    if refund > ZERO:
        changes.set(row["id"], "refunded", row["refunded"] + refund)
        credits.append(
            Credit(
                user_id=row["user_id"],
                amount=refund,
                kind=BalanceTransaction.Kind.REFUND,
                memo=f"Refund for {label} {row['id']} ({status.lower()})",
                **{ledger_ref: row["id"]},
            )
        )


def _finish_orders(
    locked: list[dict], changed: dict[int, dict[str, object]], changes: _Changes, now: datetime
) -> tuple[list[Credit], list[dict[str, object]]]:
    credits, events = [], []
    for row in locked:
        new = changed[row["id"]]
        status = new.get("status")
        if status is None:
            continue
        if status in FINAL_ORDER_STATUSES:
            if status == OrderStatus.PARTIAL and not new["_remains_reported"]:
                refund = _partial_refund_without_remains(row, new["_upstream_charge"])
                if refund is None:
                    _hand_over(
                        changes,
                        events,
                        row,
                        Order,
                        "Partial without remains or charge from the provider: set the refund by hand",
                    )
                    continue
            else:
                remains = new.get("remains", row["remains"])
                if status == OrderStatus.CANCELED and remains is None:
                    remains = row["total_quantity"]
                refund = order_refund_due(
                    charge=row["charge"],
                    refunded=row["refunded"],
                    status=status,
                    remains=remains,
                    total_quantity=row["total_quantity"],
                )
            _finish_row(
                changes, credits, row, status, refund, now, ledger_ref="order_id", label="order"
            )
        events.append(
            event_values(
                row["id"],
                target_model=Order,
                field="status",
                old=row["status"],
                new=status,
                actor=Actor.POLLER,
            )
        )
    return credits, events


ORDERS = PollSpec(
    model=Order,
    due=~Q(status__in=FINAL_ORDER_STATUSES),
    final_statuses=FINAL_ORDER_STATUSES,
    fields=(
        "status",
        "remains",
        "start_count",
        "cost",
        "charge",
        "refunded",
        "total_quantity",
        "exchange_rate",
        "upstream_rate",
        "service__type",
    ),
    fetch=lambda client, ids: client.statuses(ids),
    compare=_compare_order,
    finish=_finish_orders,
)


# --- Refills ---------------------------------------------------------------------------------


def _compare_refill(row: dict, answer: str) -> dict[str, object]:
    return {"status": answer} if answer in _REFILL_STATUSES and answer != row["status"] else {}


def _finish_refills(
    locked: list[dict], changed: dict[int, dict[str, object]], changes: _Changes, now: datetime
) -> tuple[list[Credit], list[dict[str, object]]]:
    events = [
        event_values(
            row["id"],
            target_model=Refill,
            field="status",
            old=row["status"],
            new=changed[row["id"]]["status"],
            actor=Actor.POLLER,
        )
        for row in locked
    ]
    return [], events


REFILLS = PollSpec(
    model=Refill,
    due=Q(status__in=[RefillStatus.PENDING, RefillStatus.IN_PROGRESS]),
    final_statuses=FINAL_REFILL_STATUSES,
    fields=("status", "order_id"),
    fetch=lambda client, ids: client.refill_statuses(ids),
    compare=_compare_refill,
    finish=_finish_refills,
)


# --- Product orders --------------------------------------------------------------------------


def _compare_product_order(row: dict, answer: UpstreamProductOrderStatus) -> dict[str, object]:
    new: dict[str, object] = {}
    if answer.status in _PRODUCT_ORDER_STATUSES and answer.status != row["status"]:
        new["status"] = answer.status
    if answer.result and answer.result != row["result"]:
        new["result"] = answer.result
    if answer.note and answer.note[:500] != row["note"]:
        new["note"] = answer.note[:500]
    if answer.charge is not None:
        cost = pricing.converted(amount=answer.charge, exchange_rate=row["exchange_rate"])
        if cost != row["cost"]:
            new["cost"] = cost
    if new and answer.charge is not None:
        new["_upstream_charge"] = answer.charge
    return new


def _finish_product_orders(
    locked: list[dict], changed: dict[int, dict[str, object]], changes: _Changes, now: datetime
) -> tuple[list[Credit], list[dict[str, object]]]:
    credits, events = [], []
    for row in locked:
        new = changed[row["id"]]
        status = new.get("status")
        if status is None:
            continue
        if status in FINAL_PRODUCT_ORDER_STATUSES:
            refund = product_refund_due(
                charge=row["charge"],
                refunded=row["refunded"],
                upstream_rate=row["upstream_rate"],
                quantity=row["quantity"],
                status=status,
                upstream_charge=new.get("_upstream_charge"),
            )
            if refund is None:
                _hand_over(
                    changes,
                    events,
                    row,
                    ProductOrder,
                    "Partial without a charge from the provider: set the refund by hand",
                )
                continue
            _finish_row(
                changes,
                credits,
                row,
                status,
                refund,
                now,
                ledger_ref="product_order_id",
                label="product order",
            )
        events.append(
            event_values(
                row["id"],
                target_model=ProductOrder,
                field="status",
                old=row["status"],
                new=status,
                actor=Actor.POLLER,
            )
        )
    return credits, events


PRODUCT_ORDERS = PollSpec(
    model=ProductOrder,
    due=Q(status__in=[ProductOrderStatus.PENDING, ProductOrderStatus.IN_PROGRESS]),
    final_statuses=FINAL_PRODUCT_ORDER_STATUSES,
    fields=(
        "status",
        "result",
        "note",
        "cost",
        "charge",
        "refunded",
        "upstream_rate",
        "quantity",
        "exchange_rate",
    ),
    fetch=lambda client, ids: client.product_order_statuses(ids),
    compare=_compare_product_order,
    finish=_finish_product_orders,
)
