"""Every endpoint with a key lacking its permission, then lacking its scope: 403, nothing
changed, the refusal logged. The walk reads the one list of routes, so a new endpoint is in it."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from accounts.models import BalanceTransaction
from operatorapi.models import ApiCall, Scope
from operatorapi.urls import ROUTES
from orders.models import Order, OrderEvent
from providers.models import Service
from support.models import Ticket, TicketMessage
from tests.factories import ServiceFactory, UserFactory
from tests.operatorapi.conftest import Api, key_for, staff_user

pytestmark = pytest.mark.django_db
ALL_PERMISSIONS = sorted({view.endpoint.permission for _, view in ROUTES})


def _walk() -> list[tuple[str, str, type]]:
    calls = []
    for route, view in ROUTES:
        path = re.sub(r"<int:pk>", "1", route)
        method = "post" if view.endpoint.write else "get"
        calls.append((method, path, view))
    return calls


def _state() -> tuple:
    """Everything a write could touch."""
    return (
        list(Order.objects.values_list("pk", "status", "dispatch_state", "refunded")),
        OrderEvent.objects.count(),
        BalanceTransaction.objects.count(),
        list(Service.objects.values_list("pk", "is_enabled")),
        list(Ticket.objects.values_list("pk", "status")),
        TicketMessage.objects.count(),
    )


@pytest.fixture
def rows(db: None) -> None:
    ServiceFactory(pk=1)
    UserFactory(pk=1, funds=Decimal(10))


def test_the_walk_covers_every_route() -> None:
    assert len(_walk()) == len(ROUTES) == 19
    assert {view.endpoint.action for _, view in ROUTES} == {e.endpoint.action for _, e in ROUTES}


@pytest.mark.parametrize(
    ("method", "path", "view"), _walk(), ids=[v.endpoint.action for _, _, v in _walk()]
)
def test_a_key_lacking_the_permission_is_refused_and_nothing_changes(
    rows: None, method: str, path: str, view: type
) -> None:
    # given an owner with every permission of the API except this endpoint's
    others = [name for name in ALL_PERMISSIONS if name != view.endpoint.permission]
    api = Api(key_for(staff_user(*others)))
    before = _state()

    answer = getattr(api, method)(path)

    assert answer.status_code == 403, (path, answer.json())
    assert answer.json()["error_code"] == "permission_denied"
    assert _state() == before
    call = ApiCall.objects.get()
    assert (call.action, call.status_code) == (view.endpoint.action, 403)


@pytest.mark.parametrize(
    ("method", "path", "view"), _walk(), ids=[v.endpoint.action for _, _, v in _walk()]
)
def test_a_key_lacking_the_scope_is_refused_though_its_owner_may(
    rows: None, method: str, path: str, view: type
) -> None:
    scopes = [scope for scope in Scope.values if scope != view.endpoint.scope]
    api = Api(key_for(staff_user(superuser=True), scopes=scopes))
    before = _state()
    answer = getattr(api, method)(path)
    assert answer.status_code == 403 and _state() == before


@pytest.mark.parametrize(
    ("method", "path", "view"), _walk(), ids=[v.endpoint.action for _, _, v in _walk()]
)
def test_the_permission_alone_is_enough(rows: None, method: str, path: str, view: type) -> None:
    api = Api(key_for(staff_user(view.endpoint.permission), scopes=[view.endpoint.scope]))
    answer = getattr(api, method)(path)
    assert answer.status_code != 403, (path, answer.json())


def test_every_permission_named_exists() -> None:
    for name in ALL_PERMISSIONS:
        app_label, codename = name.split(".")
        assert Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).exists(), name
