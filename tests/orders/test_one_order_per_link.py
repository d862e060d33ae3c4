"""One open order per service and link (issue 21, part 3; docs/protocol.md "One open order per
link"): refused on every channel, decided by the database, freed by a final status."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import BalanceTransaction, User
from orders.errors import LinkBusy
from orders.lifecycle.events import Actor
from orders.models import Order, OrderEvent, OrderStatus, Source
from orders.services import order_cancel, order_place, orders_place_mass
from providers.models import Provider, Service, ServiceType
from tests.factories import ServiceFactory, UserFactory
from tests.orders.conftest import charge_of
from tests.support import order_finalize, with_form_token

LINK = "https://www.instagram.com/p/Post1/"
SAME_LINK = "http://instagram.com/p/Post1?utm_source=ig_web_copy_link&igshid=abc"
BUSY = "You have active order with this link. Please wait until order being completed."


@pytest.fixture
def service(catalog: Provider) -> Service:
    return Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()


def _order(user: User, service: Service, link: str = LINK, **extra: Any) -> Order:
    return order_place(
        user=user,
        service_id=service.pk,
        fields={"link": link, "quantity": str(service.min)},
        source=Source.API,
        **extra,
    )


def _charges(user: User) -> int:
    return BalanceTransaction.objects.filter(user=user, kind=BalanceTransaction.Kind.CHARGE).count()


def test_a_second_order_on_an_open_link_is_refused_and_charges_nothing(
    customer: User, service: Service
) -> None:
    # given
    first = _order(customer, service)
    balance = User.objects.get(pk=customer.pk).balance

    # when
    with pytest.raises(LinkBusy) as refused:
        _order(customer, service, SAME_LINK)

    # then
    assert refused.value.message == BUSY
    assert refused.value.active_order_id == first.pk
    assert Order.objects.count() == 1 and OrderEvent.objects.filter(order=first).count() == 1
    assert User.objects.get(pk=customer.pk).balance == balance
    assert _charges(customer) == 1


def test_the_link_is_busy_for_other_customers_too_without_naming_their_order(
    customer: User, reseller: User, service: Service
) -> None:
    first = _order(customer, service)

    with pytest.raises(LinkBusy) as refused:
        _order(reseller, service, SAME_LINK)

    assert refused.value.message == BUSY
    assert refused.value.active_order_id is None  # another customer's order is never revealed
    assert str(first.pk) not in str(refused.value.detail)
    assert _charges(reseller) == 0


def test_a_refusal_leaves_the_callers_transaction_usable(customer: User, service: Service) -> None:
    _order(customer, service)

    with transaction.atomic():
        with pytest.raises(LinkBusy):
            _order(customer, service, SAME_LINK)
        assert Order.objects.count() == 1  # no savepoint, yet the transaction goes on


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.PARTIAL])
def test_a_final_status_frees_the_link(customer: User, service: Service, status: str) -> None:
    # given an order the provider finished
    first = _order(customer, service)
    Order.objects.filter(pk=first.pk).update(dispatch_state="sent", upstream_id="1")
    order_finalize(order_id=first.pk, status=status, actor=Actor.POLLER, remains=1)

    # when / then
    second = _order(customer, service, SAME_LINK)
    assert second.pk != first.pk and second.link_key == first.link_key


def test_a_canceled_order_frees_the_link(customer: User, service: Service) -> None:
    first = _order(customer, service)
    order_cancel(user=customer, order_id=first.pk)

    assert _order(customer, service, SAME_LINK).status == OrderStatus.PENDING


@pytest.mark.parametrize(
    ("status", "dispatch_state"),
    [
        (OrderStatus.PENDING, "needs_review"),  # it may have landed upstream
        (OrderStatus.PROCESSING, "sent"),
        (OrderStatus.IN_PROGRESS, "sent"),
    ],
)
def test_every_open_status_holds_the_link(
    customer: User, service: Service, status: str, dispatch_state: str
) -> None:
    first = _order(customer, service)
    Order.objects.filter(pk=first.pk).update(status=status, dispatch_state=dispatch_state)

    with pytest.raises(LinkBusy):
        _order(customer, service, SAME_LINK)


def test_another_service_or_another_link_is_not_held(customer: User, catalog: Provider) -> None:
    one, other = Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk")[
        :2
    ]
    _order(customer, one)

    _order(customer, other, SAME_LINK)
    _order(customer, one, "https://instagram.com/p/Post2")

    assert Order.objects.count() == 3


def test_a_service_with_the_setting_off_takes_many_orders_per_link(
    customer: User, service: Service
) -> None:
    Service.objects.filter(pk=service.pk).update(is_one_order_per_link=False)

    first, second = _order(customer, service), _order(customer, service, SAME_LINK)

    assert first.link_key is None and second.link_key is None


def test_a_repeated_client_ref_returns_its_order_instead_of_refusing(
    customer: User, service: Service
) -> None:
    first = _order(customer, service, client_ref="r1")

    assert _order(customer, service, SAME_LINK, client_ref="r1").pk == first.pk


def test_the_setting_is_on_by_default_and_editable_in_the_admin(
    client: Client, staff: User
) -> None:
    service = ServiceFactory()
    User.objects.filter(pk=staff.pk).update(is_superuser=True)
    client.force_login(staff)

    page = client.get(reverse("admin:providers_service_change", args=[service.pk]))

    assert service.is_one_order_per_link is True
    assert 'name="is_one_order_per_link"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inside", [False, True], ids=["alone", "inside"])
def test_concurrent_adds_on_one_link_place_one_order_and_charge_once(
    catalog: Provider, inside: bool
) -> None:
    """Placed alone (outside any transaction, as the API's `add`) and inside the caller's."""
    # given two customers (no shared balance lock to serialize them) racing on one link
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    charge = charge_of(service, service.min)
    users = [UserFactory(funds=Decimal(10)) for _ in range(8)]

    def add(user: User) -> bool:
        try:
            with transaction.atomic() if inside else nullcontext():
                _order(user, service, LINK if user.pk % 2 else SAME_LINK)
        except LinkBusy:
            return False
        finally:
            connection.close()
        return True

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(add, users))

    # then: one accepted, the others refused; charged once, and every balance matches its ledger
    assert outcomes.count(True) == 1 == Order.objects.count()
    winner = users[outcomes.index(True)]
    assert BalanceTransaction.objects.filter(kind=BalanceTransaction.Kind.CHARGE).count() == 1
    for user in users:
        user.refresh_from_db()
        assert user.balance == (Decimal(10) - charge if user == winner else Decimal(10))


# --- The channels: API, web form, mass order ------------------------------------------------------


def test_api_add_answers_the_protocols_exact_error(
    client: Client, reseller: User, reseller_key: str, service: Service
) -> None:
    fields = {"key": reseller_key, "action": "add", "service": service.pk, "quantity": service.min}
    first = client.post("/api/v2", {**fields, "link": LINK})

    refused = client.post("/api/v2", {**fields, "link": SAME_LINK})

    assert "order" in first.json()
    assert refused.status_code == 200 and refused.json() == {"error": BUSY}
    assert _charges(reseller) == 1


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "This link already has an open order (#{id}) for this service."),
        ("vi", "Link này đang có một đơn chưa hoàn thành (#{id}) ở dịch vụ này."),
    ],
)
def test_the_web_form_says_it_in_the_customers_language_with_a_link_to_the_open_order(
    client: Client, service: Service, language: str, text: str
) -> None:
    # given
    user = UserFactory(funds=Decimal(10), language=language)
    first = _order(user, service)
    client.force_login(user)

    # when
    response = client.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": SAME_LINK, "quantity": service.min}),
    )

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert text.format(id=first.pk) in html
    assert f'href="{reverse("order_detail", args=[first.pk])}"' in html
    assert Order.objects.count() == 1


def test_mass_order_reports_a_busy_link_on_its_line(customer: User, service: Service) -> None:
    text = f"{service.pk}|{LINK}|{service.min}\n{service.pk}|{SAME_LINK}|{service.min}"

    first, second = orders_place_mass(user=customer, text=text)

    assert first.order is not None and second.order is None
    assert second.error == BUSY
    assert isinstance(second.failure, LinkBusy) and second.failure.active_order_id == first.order.pk
    assert str(first.order.pk) in second.shown_error


def test_the_mass_order_page_links_the_open_order(
    client: Client, customer: User, service: Service
) -> None:
    first = _order(customer, service)
    client.force_login(customer)

    response = client.post(
        reverse("order_mass"),
        with_form_token({"orders": f"{service.pk}|{SAME_LINK}|{service.min}"}),
    )

    assert f'href="{reverse("order_detail", args=[first.pk])}"' in response.content.decode()
