# The bulk and pipeline tests write orders, as their callers do.
from tests.orders.conftest import place, sent, service_of

__all__ = ["place", "sent", "service_of"]
