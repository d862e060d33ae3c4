"""A child panel's order through the chain child → parent → sandbox, in one process: the parent's
/api/v2 is served by a live server thread, the child's provider reaches it with the owner's key,
and a Partial at the sandbox refunds the owner at his price and the child's customer at hers."""

import time
from decimal import Decimal

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import ChildPanelState, User
from accounts.selectors import ledger_mismatches
from core.money import MONEY_QUANTUM
from core.tenancy import panel_scope
from orders.models import Order, OrderStatus
from orders.pricing import partial_refund
from orders.services import order_forward, order_place, provider_poll
from panel.child_panels.services import child_panel_create, child_panel_move
from providers.models import Provider, Service
from providers.services import catalog_sync
from sandbox import SandboxConfig
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        key="sandbox-key",
        services=12,
        products=0,
        seed=3,
        pending_seconds=0.2,
        run_seconds=0.5,
        partial_rate=1,
        cancel_rate=0,
    )


def _poll_until_final(provider: Provider, order_id: int) -> Order:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        Order.objects.filter(pk=order_id).update(next_poll_at="2000-01-01T00:00:00Z")
        provider_poll(provider=Provider.objects.get(pk=provider.pk), max_seconds=5)
        order = Order.objects.get(pk=order_id)
        if order.status in OrderStatus.finals():
            return order
        time.sleep(0.3)
    raise AssertionError(f"order {order_id} did not finish")


def test_a_partial_at_the_bottom_refunds_every_level_at_its_own_price(
    catalog: Provider, live_server: LiveServer, settings: object
) -> None:
    settings.PANEL_CHILD_PANEL_API_URL = f"{live_server.url}/api/v2"  # type: ignore[attr-defined]
    owner = UserFactory(username="owner", funds=Decimal(100))
    child = child_panel_create(
        domain="shop.example.com", owner=owner, name="Shop", markup_percent=Decimal(50)
    )
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    link = Provider.objects.get(child_panel=child)
    catalog_sync(provider=link)  # the parent's catalog, as the owner sees it, over /api/v2

    # the child's price is the owner's price with his markup
    parent_service = Service.objects.filter(provider=catalog, type="Default").order_by("pk")[0]
    child_service = Service.objects.get(provider=link, upstream_id=str(parent_service.pk))
    assert child_service.upstream_rate == parent_service.rate
    assert child_service.rate == (parent_service.rate * Decimal("1.5")).quantize(MONEY_QUANTUM)

    # when the child's customer orders and each level forwards
    with panel_scope(child.pk):
        carol: User = UserFactory(username="carol", child_panel=child, funds=Decimal(50))
        placed = order_place(
            user=carol,
            service_id=child_service.pk,
            fields={
                "link": "https://instagram.com/p/chain",
                "quantity": str(child_service.min * 2),
            },
        )
    assert order_forward(order_id=placed.pk) == "sent"
    bought = Order.objects.get(user=owner)  # the parent's order, bought as the owner
    assert Order.objects.get(pk=placed.pk).upstream_id == str(bought.pk)
    assert bought.charge < placed.charge
    assert order_forward(order_id=bought.pk) == "sent"

    # then the sandbox ends it Partial, and each level's poll refunds at its own price
    bought = _poll_until_final(catalog, bought.pk)
    mine = _poll_until_final(link, placed.pk)
    assert bought.status == mine.status == OrderStatus.PARTIAL
    assert bought.remains == mine.remains > 0
    assert bought.refunded == partial_refund(
        charge=bought.charge, remains=bought.remains, total_quantity=bought.total_quantity
    )
    assert mine.refunded == partial_refund(
        charge=mine.charge, remains=mine.remains, total_quantity=mine.total_quantity
    )
    owner.refresh_from_db(), carol.refresh_from_db()
    assert owner.balance == Decimal(100) - bought.charge + bought.refunded
    assert carol.balance == Decimal(50) - mine.charge + mine.refunded
    assert ledger_mismatches() == []
