from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import User
from orders.models import Order, Source
from orders.services import order_forward, order_place
from providers.models import Provider, Service, ServiceType


@pytest.fixture
def service_of(catalog: Provider) -> Callable[..., Service]:
    """The first on-sale service of a type, optionally with refill/cancel/dripfeed."""

    def pick(service_type: str = ServiceType.DEFAULT, **flags: bool) -> Service:
        service = (
            Service.objects.filter(provider=catalog, type=service_type, **flags)
            .order_by("pk")
            .first()
        )
        assert service is not None, (
            f"the sandbox catalog has no {service_type} service with {flags}"
        )
        return service

    return pick


@pytest.fixture
def place(customer: User, service_of: Callable[..., Service]) -> Callable[..., Order]:
    """Place a Default order for the customer (quantity at the service minimum unless given)."""

    def _place(
        *,
        user: User | None = None,
        service: Service | None = None,
        quantity: int | None = None,
        link: str | None = None,
        source: str = Source.API,
        **flags: bool,
    ) -> Order:
        service = service or service_of(ServiceType.DEFAULT, **flags)
        fields = {
            "link": link or f"https://instagram.com/p/{Order.objects.count() + 1}",
            "quantity": str(quantity or service.min),
        }
        return order_place(
            user=user or customer, service_id=service.pk, fields=fields, source=source
        )

    return _place


@pytest.fixture
def sent(place: Callable[..., Order]) -> Callable[..., Order]:
    """Place and forward an order to the sandbox; returns it refreshed."""

    def _sent(**kwargs: object) -> Order:
        order = place(**kwargs)
        assert order_forward(order_id=order.pk) == "sent"
        order.refresh_from_db()
        return order

    return _sent


def charge_of(service: Service, quantity: int) -> Decimal:
    return (service.rate * quantity / 1000).quantize(Decimal("0.000001"))
