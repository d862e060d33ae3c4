from typing import TYPE_CHECKING

import pytest

from accounts.models import ChildPanel, ChildPanelState, User
from core.tenancy import panel_scope
from tests.factories import UserFactory

if TYPE_CHECKING:
    from providers.models import Provider
    from sandbox import SandboxServer

CHILD_HOST = "child.example.com"
OTHER_HOST = "other.example.net"


@pytest.fixture(autouse=True)
def _child_api_url(settings: object) -> None:
    settings.PANEL_CHILD_PANEL_API_URL = "http://127.0.0.1:9/api/v2"  # type: ignore[attr-defined]


@pytest.fixture
def owner(db: None) -> User:
    from decimal import Decimal

    return UserFactory(username="owner", funds=Decimal("100"))


def make_child(owner: User, domain: str, state: str = ChildPanelState.ACTIVE) -> ChildPanel:
    from panel.child_panels.services import child_panel_create, child_panel_move

    child = child_panel_create(domain=domain, owner=owner, name=f"Shop {domain}")
    if state != ChildPanelState.WAITING_DNS:
        child = child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    if state == ChildPanelState.SUSPENDED:
        child = child_panel_move(child_panel_id=child.pk, to=state)
    return child


@pytest.fixture
def child(owner: User) -> ChildPanel:
    return make_child(owner, CHILD_HOST)


@pytest.fixture
def other_child(owner: User) -> ChildPanel:
    return make_child(owner, OTHER_HOST)


def child_customer(child: ChildPanel | None, username: str, **kwargs: object) -> User:
    with panel_scope(child.pk if child else None):
        return UserFactory(username=username, child_panel=child, **kwargs)


PARENT_HOST = "testserver"
HOSTS = (PARENT_HOST, CHILD_HOST, OTHER_HOST)


def marker(host: str) -> str:
    """A string only this panel's alice's rows carry: found in a page of another panel, it is a
    leak (host names are no markers: pages print their own host in links)."""
    return f"zq{HOSTS.index(host)}mark"


@pytest.fixture
def world(
    owner: User,
    child: ChildPanel,
    other_child: ChildPanel,
    catalog: "Provider",
    sandbox: "SandboxServer",
    settings: object,
) -> dict[str, dict[str, object]]:
    """Three panels, each with an "alice" (same name, different passwords and addresses), her
    key, an order of her panel's catalog, a ticket and a webhook endpoint, each carrying her
    panel's marker."""
    from decimal import Decimal

    from accounts.services import api_key_create
    from notifications.webhooks.services import webhook_endpoint_create
    from orders.services import order_place
    from providers.models import Provider, Service
    from providers.services import catalog_sync
    from support.services import ticket_open

    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]
    for panel in (child, other_child):
        # Fed by the sandbox here: the chain to the parent is test_chain's.
        linked = Provider.objects.get(child_panel=panel)
        linked.api_url = sandbox.url
        linked.api_key = "sandbox-key"
        linked.save()
        catalog_sync(provider=linked)
    found: dict[str, dict[str, object]] = {}
    for host, panel in ((PARENT_HOST, None), (CHILD_HOST, child), (OTHER_HOST, other_child)):
        mark = marker(host)
        with panel_scope(panel.pk if panel else None):
            alice = child_customer(
                panel,
                "alice",
                email=f"alice-{mark}@example.com",
                password=f"pw-{host}",
                funds=Decimal(50),
            )
            service = Service.objects.on_sale().filter(type="Default").order_by("pk").first()
            order = order_place(
                user=alice,
                service_id=service.pk,
                fields={"link": f"https://instagram.com/p/{mark}", "quantity": str(service.min)},
            )
            ticket = ticket_open(user=alice, kind="other", subject=f"hi {mark}", message=mark)
            endpoint, _secret = webhook_endpoint_create(
                user=alice, url=f"http://127.0.0.1:9/{mark}", events=["order.status_changed"]
            )
            found[host] = {
                "user": alice,
                "panel": panel,
                "key": api_key_create(user=alice),
                "service": service,
                "order": order,
                "ticket": ticket,
                "webhook": endpoint,
            }
    return found
