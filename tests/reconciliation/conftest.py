"""A provider day in the making: an opening snapshot an hour ago, orders sent to the sandbox
and driven to their ends, then the closing snapshot and the reconciliation."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services.polling import ORDERS, poll
from providers.models import Provider
from reconciliation.models import BalanceSnapshot, ProviderDay
from reconciliation.services import balance_snapshot_take, provider_day_reconcile
from sandbox import SandboxConfig, SandboxServer
from tests.orders.conftest import place, sent, service_of  # noqa: F401
from tests.support import FakeClock, sandbox_control

__all__ = ["place", "sent", "service_of"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox_config(clock: FakeClock) -> SandboxConfig:
    return SandboxConfig(
        key="sandbox-key",
        services=40,
        products=6,
        seed=7,
        clock=clock,
        partial_rate=0,
        cancel_rate=0,
    )


class Books:
    """Drives one day: open, force and plant, poll, close, reconcile."""

    def __init__(self, provider: Provider, sandbox: SandboxServer) -> None:
        self.provider, self.sandbox = provider, sandbox
        self.day = timezone.localdate()

    def open(self) -> BalanceSnapshot:
        """The opening edge, moved an hour back: the day started before the test."""
        snapshot = balance_snapshot_take(provider=self.provider, day=self.day)
        hour = timedelta(hours=1)
        BalanceSnapshot.objects.filter(pk=snapshot.pk).update(
            requested_at=snapshot.requested_at - hour, answered_at=snapshot.answered_at - hour
        )
        snapshot.refresh_from_db()
        return snapshot

    def force(self, order: Order, status: str, **extra: object) -> None:
        sandbox_control(self.sandbox, "force", order=int(order.upstream_id), status=status, **extra)

    def plant(self, order: Order, **fault: object) -> None:
        sandbox_control(self.sandbox, "misreport", order=int(order.upstream_id), **fault)

    def poll(self) -> None:
        Order.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
        poll(ORDERS, self.provider)

    def close(self) -> BalanceSnapshot:
        return balance_snapshot_take(provider=self.provider, day=self.day + timedelta(days=1))

    def reconcile(self) -> ProviderDay:
        return provider_day_reconcile(provider=self.provider, day=self.day)


@pytest.fixture
def books(catalog: Provider, sandbox: SandboxServer) -> Books:
    return Books(catalog, sandbox)


@pytest.fixture
def sent_order(sent: Callable[..., Order]) -> Callable[..., Order]:  # noqa: F811
    def _sent(quantity: int = 1000) -> Order:
        return sent(quantity=quantity)

    return _sent


def price_of(order: Order) -> Decimal:
    return order.upstream_rate * order.total_quantity / 1000
