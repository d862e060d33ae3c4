"""The orders pages' live refresh (orders/views/live.py): only the user's own orders, the same
HTML and number formats as the page, a version that moves with what is shown, and the balance."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from orders.lifecycle.events import event_record
from orders.models import DispatchState, Order, OrderStatus, Source
from orders.services import order_place
from providers.models import Service
from tests.factories import ServiceFactory, UserFactory

LINK = "https://instagram.com/p/abc123"


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(name="Instagram Followers", rate=Decimal("2.5"), min=100, max=20000)


def _place(user: User, service: Service, quantity: int = 12000, link: str = LINK) -> Order:
    return order_place(
        user=user,
        service_id=service.pk,
        fields={"link": link, "quantity": str(quantity)},
        source=Source.WEB,
    )


def _live(client: Client, *ids: int, **extra: str) -> dict:
    response = client.get(reverse("order_live"), {"ids": ",".join(map(str, ids)), **extra})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _page_version(page: str, order_id: int) -> str:
    tag = page.split(f'data-order="{order_id}"', 1)[1].split(">", 1)[0]
    return tag.split('data-version="', 1)[1].split('"', 1)[0]


def test_live_answers_only_the_users_own_orders(
    client: Client, customer: User, other_reseller: User, service: Service
) -> None:
    mine = _place(customer, service)
    theirs = _place(other_reseller, service, link="https://instagram.com/p/other")
    client.force_login(customer)
    data = _live(client, mine.pk, theirs.pk, 999999)
    assert set(data["orders"]) == {str(mine.pk)}
    assert f"#{theirs.pk}" not in json.dumps(data)


def test_live_needs_a_login(client: Client, customer: User, service: Service) -> None:
    order = _place(customer, service)
    response = client.get(reverse("order_live"), {"ids": str(order.pk)})
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_live_ignores_what_is_not_an_id(client: Client, customer: User, service: Service) -> None:
    order = _place(customer, service)
    client.force_login(customer)
    assert set(_live(client, order.pk, **{"ids": f"x,{order.pk},-3,"})["orders"]) == {str(order.pk)}


def test_live_row_is_the_pages_row_and_moves_with_the_order(
    client: Client, customer: User, service: Service
) -> None:
    # given: an order as the list page first drew it
    order = _place(customer, service)
    client.force_login(customer)
    page = client.get(reverse("order_list")).content.decode()
    before = _live(client, order.pk)["orders"][str(order.pk)]
    assert before["version"] == _page_version(page, order.pk)
    assert before["settled"] is False
    assert before["html"].startswith(f'<tr data-order="{order.pk}"')

    # when: the provider reports it partly delivered (the poller's writes)
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PARTIAL,
        dispatch_state=DispatchState.SENT,
        start_count=1500,
        remains=2400,
        refunded=Decimal("6"),
    )
    after = _live(client, order.pk, next="/orders/?status=Pending")["orders"][str(order.pk)]

    # then: a new version, settled, the numbers as the page writes them
    assert after["version"] != before["version"]
    assert after["settled"] is True
    assert "1,500" in after["html"] and "2,400" in after["html"]
    assert "refunded 6.00" in after["html"]
    assert 'value="/orders/?status=Pending"' in after["html"]  # the forms lead back here


def test_live_numbers_follow_the_readers_language(
    client: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)
    Order.objects.filter(pk=order.pk).update(start_count=1500, remains=2400)
    client.force_login(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    data = _live(client, order.pk)
    html = data["orders"][str(order.pk)]["html"]
    assert "1.500" in html and "2.400" in html and "1,500" not in html
    page = client.get(reverse("order_list")).content.decode()
    badge = page.split('class="balance"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert data["balance_text"] == badge  # the top bar reads the same after a refresh
    assert "," in badge  # 70,00 USD: a decimal comma, never turned into a point


def test_live_order_page_sends_its_body_with_the_refund_history(
    client: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)
    client.force_login(customer)
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    first = _live(client, order.pk, view="detail")["orders"][str(order.pk)]
    assert first["version"] == _page_version(page, order.pk)
    assert f'<div data-order="{order.pk}"' in first["html"]

    event_record(order, field="status", old="Pending", new="In progress", actor="poller")
    moved = _live(client, order.pk, view="detail")["orders"][str(order.pk)]
    assert moved["version"] != first["version"]


def test_live_pages_carry_the_refresh_settings(
    client: Client, customer: User, service: Service
) -> None:
    order = _place(customer, service)
    client.force_login(customer)
    for url in (reverse("order_list"), reverse("order_detail", args=[order.pk])):
        page = client.get(url).content.decode()
        assert f'data-live-url="{reverse("order_live")}"' in page
        assert f'data-live-seconds="{settings.PANEL_LIVE_REFRESH_SECONDS}"' in page
        assert "orders/order-live.js" in page


def test_a_settled_order_is_drawn_settled(client: Client, service: Service) -> None:
    user = UserFactory(username="dora", funds=Decimal("100"))
    order = _place(user, service, quantity=1000)
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.COMPLETED, dispatch_state=DispatchState.SENT, remains=0
    )
    client.force_login(user)
    page = client.get(reverse("order_list")).content.decode()
    assert (
        f'data-order="{order.pk}" data-version="{_page_version(page, order.pk)}" data-final="1"'
        in page
    )
