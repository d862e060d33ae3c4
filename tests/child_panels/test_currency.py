"""A child panel in đồng under a panel in dollars: its catalog is the parent's converted at the
rate fixed when it was made (its provider's exchange rate, as any provider in another currency),
its customers hold and pay đồng, the owner pays the parent in dollars, and a Partial refunds each
level exactly in its own currency. The chain runs in one process, as tests/child_panels/
test_chain.py does."""

from decimal import ROUND_CEILING, Decimal

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from accounts.models import ChildPanelState, User
from accounts.selectors import ledger_mismatches
from core.errors import InvalidRequest
from core.tenancy import panel_scope
from orders.models import Order, OrderStatus
from orders.pricing import partial_refund
from orders.services import order_forward, order_place
from panel.child_panels.services import child_panel_create, child_panel_move
from providers.models import Provider, Service
from providers.services import catalog_sync
from sandbox import SandboxConfig
from tests.child_panels.test_chain import _poll_until_final
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
VND_PER_USD = Decimal(25000)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        key="sandbox-key",
        services=12,
        products=0,
        seed=5,
        pending_seconds=0.2,
        run_seconds=0.5,
        partial_rate=1,
        cancel_rate=0,
    )


def test_a_vnd_child_of_a_usd_parent_charges_and_refunds_each_level_in_its_own_currency(
    catalog: Provider, live_server: LiveServer, settings: object, client: Client
) -> None:
    settings.PANEL_CHILD_PANEL_API_URL = f"{live_server.url}/api/v2"  # type: ignore[attr-defined]
    settings.PANEL_VND_RATE = str(VND_PER_USD)  # type: ignore[attr-defined]
    owner = UserFactory(username="owner", funds=Decimal(100))
    child = child_panel_create(
        domain="shop.example.vn",
        owner=owner,
        name="Shop",
        currency="VND",
        markup_percent=Decimal(20),
    )
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    link = Provider.objects.get(child_panel=child)
    assert (link.currency, link.exchange_rate) == ("USD", VND_PER_USD)
    catalog_sync(provider=link)

    # its prices: the owner's dollar price × 25,000 × 1.2, rounded up to whole đồng
    parent_service = Service.objects.filter(provider=catalog, type="Default").order_by("pk")[0]
    child_service = Service.objects.get(provider=link, upstream_id=str(parent_service.pk))
    assert child_service.upstream_rate == parent_service.rate
    expected = (parent_service.rate * VND_PER_USD * Decimal("1.2")).quantize(
        Decimal(1), rounding=ROUND_CEILING
    )
    assert child_service.rate == expected

    # its customer holds đồng, and her pages say so
    with panel_scope(child.pk, currency=child.currency):
        carol: User = UserFactory(username="carol", child_panel=child, funds=Decimal(2_000_000))
    assert carol.currency == "VND"
    client.force_login(carol)
    services_page = client.get("/services/", HTTP_HOST=child.domain).content.decode()
    assert "₫" in services_page and "USD" not in services_page

    with panel_scope(child.pk, currency=child.currency):
        placed = order_place(
            user=carol,
            service_id=child_service.pk,
            fields={"link": "https://instagram.com/p/dong", "quantity": str(child_service.min * 3)},
        )
    assert order_forward(order_id=placed.pk) == "sent"
    bought = Order.objects.get(user=owner)
    assert order_forward(order_id=bought.pk) == "sent"
    # the child's cost is the owner's dollar charge in đồng, at the panel's fixed rate
    placed.refresh_from_db()
    assert placed.cost == bought.charge * VND_PER_USD

    bought = _poll_until_final(catalog, bought.pk)
    mine = _poll_until_final(link, placed.pk)
    assert bought.status == mine.status == OrderStatus.PARTIAL
    assert bought.refunded == partial_refund(
        charge=bought.charge, remains=bought.remains, total_quantity=bought.total_quantity
    )
    assert mine.refunded == partial_refund(
        charge=mine.charge, remains=mine.remains, total_quantity=mine.total_quantity
    )
    owner.refresh_from_db(), carol.refresh_from_db()
    assert owner.balance == Decimal(100) - bought.charge + bought.refunded
    assert carol.balance == Decimal(2_000_000) - mine.charge + mine.refunded
    assert ledger_mismatches() == []


def test_a_currency_without_a_rate_is_not_offered(settings: object) -> None:
    settings.PANEL_VND_RATE = ""  # type: ignore[attr-defined]
    owner = UserFactory(username="owner")
    with pytest.raises(InvalidRequest):
        child_panel_create(domain="shop.example.vn", owner=owner, name="Shop", currency="VND")
    with pytest.raises(InvalidRequest):
        child_panel_create(domain="shop.example.jp", owner=owner, name="Shop", currency="JPY")
