"""How polling reads each kind's answers: orders, refills and product orders. The engine
(`engine.py`) claims, fetches and writes; these read an answer into a `Seen`, and the lifecycle
(orders/lifecycle/poll.py) says what it changes and what a final status refunds."""

from django.db.models import Case, Q, TextField, Value, When
from django.db.models.functions import Cast

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
from providers.models import ServiceType


def _observe_order(answer: UpstreamOrderStatus) -> Seen:
    status = OrderStatus.read(answer.status)
    return Seen(
        status=status,
        unknown_status=None if status else answer.status,
        remains=answer.remains,
        start_count=answer.start_count,
        upstream_charge=answer.charge,
    )


def _observe_refill(answer: str) -> Seen:
    status = RefillStatus.read(answer)
    return Seen(status=status, unknown_status=None if status else answer)


def _observe_product_order(answer: UpstreamProductOrderStatus) -> Seen:
    status = ProductOrderStatus.read(answer.status)
    return Seen(
        status=status,
        unknown_status=None if status else answer.status,
        upstream_charge=answer.charge,
        result=answer.result or None,
        note=answer.note or None,
    )


# An order's details only where its refund reads them (a comments package counts its lines),
# as text: decoding every polled order's JSON, nearly always for nothing, was a few per cent of
# the polling thread's CPU (docs/performance.md).
PACKAGE_DETAILS = Case(
    When(service__type=ServiceType.CUSTOM_COMMENTS_PACKAGE, then=Cast("details", TextField())),
    default=Value(None),
    output_field=TextField(),
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
        "service__type",
        "source",
    ),
    computed={"package_details": PACKAGE_DETAILS},
    fetch=lambda client, ids: client.statuses(ids),
    observe=_observe_order,
)

REFILLS = PollSpec(
    kind=Kind.REFILL,
    model=Refill,
    due=Q(status__in=RefillStatus.opens()),
    fields=("user_id", "status", "order_id"),
    fetch=lambda client, ids: client.refill_statuses(ids),
    observe=_observe_refill,
)

PRODUCT_ORDERS = PollSpec(
    kind=Kind.PRODUCT_ORDER,
    model=ProductOrder,
    due=Q(status__in=ProductOrderStatus.opens()),
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
