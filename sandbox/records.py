"""Orders, refills and product orders, and how their status follows the clock.

Nothing runs in the background: a record stores when it leaves Pending and when
it ends, and every read works out where it stands at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.money import decimal_str, quantize_charge

PENDING = "Pending"
IN_PROGRESS = "In progress"
COMPLETED = "Completed"
PARTIAL = "Partial"
CANCELED = "Canceled"
REJECTED = "Rejected"
ORDER_STATUSES = (PENDING, "Processing", IN_PROGRESS, COMPLETED, PARTIAL, CANCELED)
REFILL_STATUSES = (PENDING, IN_PROGRESS, COMPLETED, REJECTED)
PRODUCT_ORDER_STATUSES = (PENDING, IN_PROGRESS, COMPLETED, PARTIAL, CANCELED)
FINAL_STATUSES = frozenset((COMPLETED, PARTIAL, CANCELED, REJECTED))
ZERO = Decimal(0)


@dataclass(slots=True)
class Order:
    id: int
    service_id: int
    link: str
    quantity: int
    charge: Decimal
    created_at: float
    starts_at: float
    ends_at: float
    start_count: int
    fate: str
    fate_remains: int
    can_refill: bool
    can_cancel: bool
    # Seeded (benchmark) orders were never paid for, so they are never refunded.
    is_seeded: bool = False
    forced_status: str | None = None
    forced_remains: int | None = None
    refunded: Decimal = ZERO
    fields: dict[str, str] = field(default_factory=dict)
    # Planted faults (/_sandbox/misreport): a provider that charges more than its price, never
    # gives the refund its status promises, or gives one nobody asked for. Each is both taken
    # from (or given to) the balance and reported in `status`, as such a provider does.
    extra_charge: Decimal = ZERO
    skips_refund: bool = False
    refund_given: Decimal = ZERO


def order_progress(order: Order, now: float) -> tuple[str, int]:
    """(status, remains) at `now`; a forced status wins over the clock."""
    if order.forced_status is not None:
        remains = order.forced_remains
        return order.forced_status, order.quantity if remains is None else remains
    if now < order.starts_at:
        return PENDING, order.quantity
    if now >= order.ends_at:
        return order.fate, order.fate_remains
    share = (now - order.starts_at) / (order.ends_at - order.starts_at)
    delivered = int((order.quantity - order.fate_remains) * share)
    return IN_PROGRESS, order.quantity - delivered


def order_effective_charge(order: Order, status: str, remains: int) -> Decimal:
    if status == CANCELED:
        return ZERO
    if status == PARTIAL and order.quantity > 0:
        delivered = max(order.quantity - remains, 0)
        return quantize_charge(order.charge * delivered / order.quantity)
    return order.charge


def order_reported_charge(order: Order, status: str, remains: int) -> Decimal:
    """What `status` says the order costs: its effective charge, bent by planted faults."""
    charged = order.charge if order.skips_refund else order_effective_charge(order, status, remains)
    return charged + order.extra_charge - order.refund_given


def order_refund_due(order: Order, now: float) -> Decimal:
    if order.is_seeded or order.skips_refund:
        return ZERO
    status, remains = order_progress(order, now)
    if status not in FINAL_STATUSES:
        return ZERO
    return order.charge - order_effective_charge(order, status, remains)


def order_answer(order: Order, now: float, currency: str) -> dict[str, Any]:
    status, remains = order_progress(order, now)
    is_started = status != PENDING or order.forced_status is not None
    return {
        "charge": decimal_str(order_reported_charge(order, status, remains)),
        "start_count": str(order.start_count if is_started else 0),
        "status": status,
        "remains": str(remains),
        "currency": currency,
    }


@dataclass(slots=True)
class Refill:
    id: int
    order_id: int
    created_at: float
    starts_at: float
    ends_at: float
    fate: str
    forced_status: str | None = None


def refill_status(refill: Refill, now: float) -> str:
    if refill.forced_status is not None:
        return refill.forced_status
    if now < refill.starts_at:
        return PENDING
    if now < refill.ends_at:
        return IN_PROGRESS
    return refill.fate


@dataclass(slots=True)
class ProductOrder:
    id: int
    product_id: int
    quantity: int
    charge: Decimal
    require: str
    created_at: float
    starts_at: float
    ends_at: float
    result: str
    forced_status: str | None = None
    forced_note: str | None = None
    forced_result: str | None = None
    refunded: Decimal = ZERO


def product_order_status(order: ProductOrder, now: float) -> str:
    if order.forced_status is not None:
        return order.forced_status
    if now < order.starts_at:
        return PENDING
    if now < order.ends_at:
        return IN_PROGRESS
    return COMPLETED


def product_order_delivered(order: ProductOrder) -> str:
    """The result lines of a Partial: the forced ones, else the first half."""
    if order.forced_result is not None:
        return order.forced_result
    lines = order.result.splitlines()
    return "\n".join(lines[: max(len(lines) // 2, 1)])


def product_order_effective_charge(order: ProductOrder, status: str) -> Decimal:
    if status == CANCELED:
        return ZERO
    if status == PARTIAL:
        delivered = min(len(product_order_delivered(order).splitlines()), order.quantity)
        return quantize_charge(order.charge * delivered / order.quantity)
    return order.charge


def product_order_refund_due(order: ProductOrder, now: float) -> Decimal:
    status = product_order_status(order, now)
    if status not in FINAL_STATUSES:
        return ZERO
    return order.charge - product_order_effective_charge(order, status)


def product_order_answer(order: ProductOrder, now: float) -> dict[str, Any]:
    status = product_order_status(order, now)
    answer: dict[str, Any] = {
        "charge": product_order_effective_charge(order, status),
        "status": status,
    }
    if status == COMPLETED:
        answer["result"] = order.forced_result if order.forced_result is not None else order.result
    elif status == PARTIAL:
        answer["result"] = product_order_delivered(order)
    elif status == CANCELED:
        answer["note"] = order.forced_note or "Canceled by the provider, charge refunded"
    return answer
