import pytest

from accounts.models import ChildPanel, ChildPanelState, User
from core.tenancy import panel_scope
from tests.factories import UserFactory

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
