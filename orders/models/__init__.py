"""The orders app's models, one module per concern (the app's models module grew past what one
file reads well); everything is importable from `orders.models` as before, the status enums of
the protocol (providers.statuses) included."""

from orders.models.base import (
    ONE_OPEN_ORDER_PER_LINK,
    STATUS_NAMES,
    Charged,
    Dispatched,
    DispatchState,
    ReviewReason,
    Source,
)
from orders.models.events import EVENT_FIELD_NAMES, EVENT_VALUE_NAMES, OrderEvent, PollLease
from orders.models.keys import ArchivedOrder, OrderClientRef, OrderOpenLink, OrderUpstreamId
from orders.models.order import CancelRequest, Order, Refill, RefillCause
from orders.models.product import ProductOrder
from providers.statuses import OrderStatus, ProductOrderStatus, RefillStatus

__all__ = [
    "ArchivedOrder",
    "EVENT_FIELD_NAMES",
    "EVENT_VALUE_NAMES",
    "ONE_OPEN_ORDER_PER_LINK",
    "STATUS_NAMES",
    "CancelRequest",
    "Charged",
    "DispatchState",
    "Dispatched",
    "Order",
    "OrderClientRef",
    "OrderEvent",
    "OrderOpenLink",
    "OrderStatus",
    "OrderUpstreamId",
    "PollLease",
    "ProductOrder",
    "ProductOrderStatus",
    "Refill",
    "RefillCause",
    "RefillStatus",
    "ReviewReason",
    "Source",
]
