"""How polling reads each kind's answers: orders, refills and product orders. The engine
(`engine.py`) claims, fetches and writes; these read an answer into a `Seen`, and the lifecycle
(orders/lifecycle/poll.py) says what it changes and what a final status refunds."""

from collections.abc import Mapping

from django.db.models import Q

from orders.lifecycle import FINAL_BY_KIND, Kind, Seen
from orders.models import (
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
)
from orders.services.polling.spec import PollSpec
from providers.client import UpstreamOrderStatus, UpstreamProductOrderStatus

# Statuses some providers send beyond the protocol's (subscriptions, refunds), read as the
# nearest protocol status. Anything else unknown is handed to a person after MISS_LIMIT polls.
_ORDER_STATUS_ALIASES = {
    "active": OrderStatus.IN_PROGRESS,
    "paused": OrderStatus.IN_PROGRESS,
    "expired": OrderStatus.COMPLETED,
    "refunded": OrderStatus.CANCELED,
    "refund": OrderStatus.CANCELED,
}
_PRODUCT_STATUS_ALIASES = {
    "processing": ProductOrderStatus.IN_PROGRESS,
    "refunded": ProductOrderStatus.CANCELED,
    "refund": ProductOrderStatus.CANCELED,
    "cancelled": ProductOrderStatus.CANCELED,
}


def _spellings(known: list[str], aliases: Mapping[str, str]) -> dict[str, str]:
    """Lowercase answer → protocol status, aliases winning over the kind's own spellings."""
    return {**{value.lower(): value for value in known}, **aliases}


# Built once: a poll reads a hundred thousand answers, and rebuilding the choices (and this
# map) per answer was most of the time spent comparing them.
_ORDER_SPELLINGS = _spellings(OrderStatus.values, _ORDER_STATUS_ALIASES)
_REFILL_SPELLINGS = _spellings(RefillStatus.values, {})
_PRODUCT_SPELLINGS = _spellings(ProductOrderStatus.values, _PRODUCT_STATUS_ALIASES)


def _status(raw: str, spellings: Mapping[str, str]) -> str | None:
    """The protocol status (aliases mapped), or None when `raw` is none of them."""
    return spellings.get(raw.strip().lower())


def _observe_order(answer: UpstreamOrderStatus) -> Seen:
    status = _status(answer.status, _ORDER_SPELLINGS)
    return Seen(
        status=status,
        unknown_status=None if status else answer.status,
        remains=answer.remains,
        start_count=answer.start_count,
        upstream_charge=answer.charge,
    )


def _observe_refill(answer: str) -> Seen:
    status = _status(answer, _REFILL_SPELLINGS)
    return Seen(status=status, unknown_status=None if status else answer)


def _observe_product_order(answer: UpstreamProductOrderStatus) -> Seen:
    status = _status(answer.status, _PRODUCT_SPELLINGS)
    return Seen(
        status=status,
        unknown_status=None if status else answer.status,
        upstream_charge=answer.charge,
        result=answer.result or None,
        note=answer.note or None,
    )


ORDERS = PollSpec(
    kind=Kind.ORDER,
    model=Order,
    due=~Q(status__in=FINAL_BY_KIND[Kind.ORDER]),
    fields=(
        "user_id",
        "status",
        "remains",
        "start_count",
        "cost",
        "charge",
        "refunded",
        "total_quantity",
        "exchange_rate",
        "upstream_rate",
        "details",
        "service__type",
    ),
    fetch=lambda client, ids: client.statuses(ids),
    observe=_observe_order,
)

REFILLS = PollSpec(
    kind=Kind.REFILL,
    model=Refill,
    due=Q(status__in=[RefillStatus.PENDING, RefillStatus.IN_PROGRESS]),
    fields=("user_id", "status", "order_id"),
    fetch=lambda client, ids: client.refill_statuses(ids),
    observe=_observe_refill,
)

PRODUCT_ORDERS = PollSpec(
    kind=Kind.PRODUCT_ORDER,
    model=ProductOrder,
    due=Q(status__in=[ProductOrderStatus.PENDING, ProductOrderStatus.IN_PROGRESS]),
    fields=(
        "user_id",
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
    observe=_observe_product_order,
)
