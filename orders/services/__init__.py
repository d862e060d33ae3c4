"""Every write to orders, refills, cancels and product orders. Status and dispatch changes go
through the lifecycle (orders/lifecycle/), which these call."""

from orders.services.dispatch import (
    cancel_forward,
    order_forward,
    product_order_forward,
    refill_forward,
)
from orders.services.placing import (
    MassOrderLine,
    order_place,
    orders_place_mass,
    product_order_place,
)
from orders.services.polling import PollCounts, provider_poll
from orders.services.refill_escalation import (
    refill_escalate,
    refills_escalate_due,
    replacement_settle,
)
from orders.services.refills_and_cancels import (
    can_cancel,
    can_refill,
    held_cancel_apply,
    order_cancel,
    own_order,
    refill_request,
)
from orders.services.review import Answer, review_attach_many, review_resolve
from orders.services.sweeps import dispatch_sweep, forwards_queue

__all__ = [
    "Answer",
    "MassOrderLine",
    "PollCounts",
    "can_cancel",
    "can_refill",
    "cancel_forward",
    "dispatch_sweep",
    "forwards_queue",
    "held_cancel_apply",
    "order_cancel",
    "order_forward",
    "order_place",
    "orders_place_mass",
    "own_order",
    "product_order_forward",
    "product_order_place",
    "provider_poll",
    "refill_escalate",
    "refill_forward",
    "refill_request",
    "refills_escalate_due",
    "replacement_settle",
    "review_attach_many",
    "review_resolve",
]
