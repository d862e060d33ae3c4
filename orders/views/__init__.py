"""Customer order pages: place (one, mass, product), list, refill and cancel.

Each view parses input, calls one order service or selector and renders; the services raise
PanelError kinds whose `.message` (or `.detail` beside a field) is what the customer reads.
"""

from orders.views.history import order_cancel, order_detail, order_list, order_refill, refill_list
from orders.views.placing import order_mass, order_new, order_service_options
from orders.views.products import product_order_list, product_order_new

__all__ = [
    "order_cancel",
    "order_detail",
    "order_list",
    "order_mass",
    "order_new",
    "order_refill",
    "order_service_options",
    "product_order_list",
    "product_order_new",
    "refill_list",
]
