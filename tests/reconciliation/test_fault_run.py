"""The fault run at a small size (bench/reconcile.py at full size): the sandbox misreports
charges, skips refunds and gives refunds nobody asked for on planted orders, and takes a fee
outside any order; the reconciliation finds every planted discrepancy and nothing else, among
orders that end completed, partial and canceled on their own."""

from decimal import Decimal

import pytest

from bench.reconcile import fault_day
from orders.models import Order
from providers.models import Provider
from sandbox import SandboxConfig, SandboxServer
from tests.factories import UserFactory
from tests.support import FakeClock


@pytest.fixture
def sandbox_config(clock: FakeClock) -> SandboxConfig:
    return SandboxConfig(
        key="sandbox-key",
        services=40,
        products=0,
        seed=21,
        clock=clock,
        partial_rate=0.2,
        cancel_rate=0.1,
    )


def test_the_reconciliation_finds_exactly_the_planted_discrepancies(
    catalog: Provider, sandbox: SandboxServer, clock: FakeClock
) -> None:
    user = UserFactory(username="books", funds=Decimal(10**6))

    day = fault_day(provider=catalog, sandbox=sandbox, clock=clock, user=user, orders=40, each=2)

    assert len(day.planted) == 7
    assert day.found == day.planted
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {"Completed", "Partial", "Canceled"}
    assert day.figures.orders_checked == 40
