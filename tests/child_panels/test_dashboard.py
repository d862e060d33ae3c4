"""The parent's dashboard counts a child panel's business once: as its owner's orders."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ChildPanel, User
from orders.models import DispatchState, Order
from panel.dashboard.figures import range_figures
from panel.dashboard.rollup import dashboard_rollup
from tests.child_panels.conftest import child_customer
from tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _order(user: User, charge: str) -> Order:
    provider = ProviderFactory()
    return Order.objects.create(
        user=user,
        service=ServiceFactory(provider=provider),
        provider=provider,
        quantity=1000,
        total_quantity=1000,
        charge=Decimal(charge),
        upstream_rate=Decimal(1),
        cost=Decimal(1),
        status="Completed",
        dispatch_state=DispatchState.SENT,
    )


def test_a_child_panels_order_is_counted_once_as_its_owners(owner: User, child: ChildPanel) -> None:
    carol = child_customer(child, "carol")
    _order(owner, "4")  # what the owner paid the parent for carol's order
    _order(carol, "6")  # what carol paid the owner

    dashboard_rollup(full=True)
    today = timezone.localdate()
    figures = range_figures(start=today, end=today)

    assert figures.totals.revenue == Decimal(4)
    assert figures.new_customers == 1  # the owner; carol is the child panel's customer
