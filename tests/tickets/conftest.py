from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import Order, Source
from orders.services import order_forward, order_place
from orders.services.polling import ORDERS, poll
from providers.models import Provider, Service
from sandbox import SandboxServer
from tests.support import sandbox_control


@pytest.fixture
def completed(catalog: Provider, sandbox: SandboxServer, customer: User) -> Callable[..., Order]:
    """An order of a refillable, cancelable service, sent upstream and polled to `status`."""

    def make(user: User | None = None, status: str = "Completed") -> Order:
        service = (
            Service.objects.filter(
                provider=catalog, type="Default", has_refill=True, has_cancel=True
            )
            .order_by("pk")
            .first()
        )
        order = order_place(
            user=user or customer,
            service_id=service.pk,
            # A link of its own: the service takes one open order per link.
            fields={
                "link": f"https://instagram.com/p/t{Order.objects.count() + 1}",
                "quantity": str(max(service.min, 100)),
            },
            source=Source.API,
        )
        assert order_forward(order_id=order.pk) == "sent"
        order.refresh_from_db()
        if status != "In progress":
            sandbox_control(sandbox, "force", order=int(order.upstream_id), status=status)
            Order.objects.filter(pk=order.pk).update(
                next_poll_at=timezone.now() - timedelta(seconds=1)
            )
            poll(ORDERS, catalog)
        order.refresh_from_db()
        return order

    return make
