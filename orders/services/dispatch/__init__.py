"""Forwarding to the provider, at most once: the forwarding itself
(orders.services.dispatch.forwarding) and the four kinds it sends (orders.services.dispatch.kinds).
One module per concern; everything is importable from `orders.services.dispatch` as before."""

from orders.services.dispatch.forwarding import (
    BUSY_PAUSE_SECONDS,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    SLOT_WAIT,
    SWEEP_GRACE,
    WORKER,
    Forwarding,
    first_poll_delay,
    forward_slots,
    providers_without_free_slot,
)
from orders.services.dispatch.kinds import (
    cancel_forward,
    order_forward,
    product_order_forward,
    refill_forward,
)

__all__ = [
    "BUSY_PAUSE_SECONDS",
    "Forwarding",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "SLOT_WAIT",
    "SWEEP_GRACE",
    "WORKER",
    "cancel_forward",
    "first_poll_delay",
    "forward_slots",
    "order_forward",
    "product_order_forward",
    "providers_without_free_slot",
    "refill_forward",
]
