"""Every write to orders, refills, cancels and product orders."""

from orders.services.dispatch import (
    cancel_forward,
    order_forward,
    product_order_forward,
    refill_forward,
)
from orders.services.finalize import order_finalize, product_order_finalize
from orders.services.placing import (
    MassOrderLine,
    order_place,
    orders_place_mass,
    product_order_place,
)
from orders.services.polling import PollCounts, provider_poll
from orders.services.requests import can_cancel, can_refill, order_cancel, own_order, refill_request
from orders.services.review import (
    dispatch_resolve_cancel,
    dispatch_resolve_cancel_request,
    dispatch_resolve_placed,
    dispatch_resolve_resend,
    dispatch_sweep,
)

__all__ = [
    "MassOrderLine",
    "PollCounts",
    "can_cancel",
    "can_refill",
    "cancel_forward",
    "dispatch_resolve_cancel",
    "dispatch_resolve_cancel_request",
    "dispatch_resolve_placed",
    "dispatch_resolve_resend",
    "dispatch_sweep",
    "order_cancel",
    "order_finalize",
    "order_forward",
    "order_place",
    "orders_place_mass",
    "own_order",
    "product_order_finalize",
    "product_order_forward",
    "product_order_place",
    "provider_poll",
    "refill_forward",
    "refill_request",
]
