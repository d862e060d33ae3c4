from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.models import BalanceTransaction, User
from orders.errors import (
    IncorrectProduct,
    IncorrectService,
    InsufficientFunds,
    InvalidOrderField,
    OutOfStock,
    QuantityOutOfRange,
)
from orders.models import DispatchState, Order, OrderEvent, OrderStatus, ProductOrder, Source
from orders.services import order_place, orders_place_mass, product_order_place
from providers.models import Product, Provider, Service, ServiceType
from tests.factories import UserFactory
from tests.orders.conftest import charge_of
from tests.support import unused_pk


def test_order_place_charges_rate_times_quantity_and_leaves_the_forward_to_the_sweep(
    customer: User, service_of: Callable[..., Service], django_capture_on_commit_callbacks: Callable
) -> None:
    service = service_of()
    quantity = service.min * 3

    with django_capture_on_commit_callbacks() as callbacks:
        order = order_place(
            user=customer,
            service_id=str(service.pk),
            fields={"link": "https://x.com/a", "quantity": str(quantity)},
        )

    assert callbacks == []  # nothing published: the forwarding sweep queues it (forwards_queue)
    assert order.charge == charge_of(service, quantity)
    assert (order.status, order.dispatch_state, order.remains, order.provider_id) == (
        OrderStatus.PENDING,
        DispatchState.QUEUED,
        quantity,
        service.provider_id,
    )
    assert order.cost == (service.upstream_rate * quantity / 1000).quantize(Decimal("0.000001"))
    row = BalanceTransaction.objects.get(order_id=order.pk)
    assert (row.kind, row.amount) == (BalanceTransaction.Kind.CHARGE, -order.charge)
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - order.charge
    assert order.events.get().new_value == "Pending"


def test_order_place_with_too_little_money_changes_nothing(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    Service.objects.filter(pk=service.pk).update(rate=Decimal("1000000"))

    with pytest.raises(InsufficientFunds):
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": "@a", "quantity": str(service.min)},
        )

    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal(100)


def test_an_order_and_its_placed_event_are_written_as_save_would_write_them(
    customer: User, service_of: Callable[..., Service]
) -> None:
    """One statement for both rows (core.db.inserts), with the values save() would give."""
    service = service_of()

    order = order_place(
        user=customer, service_id=service.pk, fields={"link": "@p", "quantity": str(service.min)}
    )

    stored = Order.objects.get()
    assert order.pk == stored.pk and not order._state.adding
    assert (order.created_at, order.details, order.charge) == (
        stored.created_at,
        stored.details,
        stored.charge,
    )
    event = stored.events.get()
    assert (event.field, event.new_value, event.message_code, event.actor) == (
        "status",
        "Pending",
        "placed",
        "customer",
    )
    charge = BalanceTransaction.objects.get(order_id=order.pk)
    assert charge.amount == -order.charge and charge.memo == ""
    assert (charge.memo_code, charge.memo_params["id"]) == ("order_charge", order.pk)


def test_a_refused_order_leaves_the_callers_transaction_usable(
    customer: User, service_of: Callable[..., Service]
) -> None:
    """Placing takes no savepoint without a client_ref: a refusal takes back its own rows."""
    service, expensive = Service.objects.filter(type=service_of().type).order_by("pk")[:2]
    Service.objects.filter(pk=expensive.pk).update(rate=Decimal("1000000"))
    fields = {"link": "@a", "quantity": str(max(service.min, expensive.min))}

    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            order_place(user=customer, service_id=expensive.pk, fields=fields)
        order = order_place(user=customer, service_id=service.pk, fields=fields)
        with pytest.raises(InsufficientFunds):  # the client_ref's path, with its savepoint
            order_place(user=customer, service_id=expensive.pk, fields=fields, client_ref="r1")

    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]
    assert list(OrderEvent.objects.values_list("order_id", flat=True)) == [order.pk]
    assert BalanceTransaction.objects.filter(user=customer, kind="charge").count() == 1
    # Another link: the first order still holds "@a" (one open order per link).
    again = order_place(
        user=customer, service_id=service.pk, fields={**fields, "link": "@b"}, client_ref="r1"
    )
    assert again.pk != order.pk and again.client_ref == "r1"


@pytest.mark.parametrize("service_id", ["unused", "abc", "", "-1"])
def test_unknown_service_is_incorrect_service_id(
    customer: User, catalog: Provider, service_id: str
) -> None:
    if service_id == "unused":
        service_id = str(unused_pk(Service))
    with pytest.raises(IncorrectService) as error:
        order_place(user=customer, service_id=service_id, fields={"link": "@a", "quantity": "100"})
    assert error.value.message == "Incorrect service ID"


@pytest.mark.parametrize("change", [{"is_enabled": False}, {"is_available": False}])
def test_services_off_sale_cannot_be_ordered(
    customer: User, service_of: Callable[..., Service], change: dict
) -> None:
    service = service_of()
    Service.objects.filter(pk=service.pk).update(**change)
    with pytest.raises(IncorrectService):
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": "@a", "quantity": str(service.min)},
        )


def test_disabled_provider_services_cannot_be_ordered(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    Provider.objects.update(is_enabled=False)
    with pytest.raises(IncorrectService):
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": "@a", "quantity": str(service.min)},
        )


def test_quantity_below_minimum_uses_the_exact_message(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    with pytest.raises(QuantityOutOfRange) as error:
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": "@a", "quantity": str(service.min - 1)},
        )
    assert error.value.message == f"Quantity less than minimal {service.min}"


def test_dripfeed_order_is_charged_for_quantity_times_runs(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of(has_dripfeed=True)
    order = order_place(
        user=customer,
        service_id=service.pk,
        fields={"link": "@a", "quantity": str(service.min), "runs": "3", "interval": "15"},
    )
    assert (order.runs, order.interval, order.total_quantity) == (3, 15, service.min * 3)
    assert order.charge == charge_of(service, service.min * 3)


def test_package_is_charged_its_flat_rate(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of(ServiceType.PACKAGE)
    order = order_place(
        user=customer, service_id=service.pk, fields={"link": "@a", "quantity": "5000"}
    )
    assert order.charge == service.rate and order.total_quantity == 1


def test_user_discount_lowers_the_rate(customer: User, service_of: Callable[..., Service]) -> None:
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal(10))
    customer.refresh_from_db()
    service = service_of()
    order = order_place(
        user=customer, service_id=service.pk, fields={"link": "@a", "quantity": str(service.min)}
    )
    assert order.charge == (service.rate * Decimal("0.9") * service.min / 1000).quantize(
        Decimal("0.000001")
    )


def test_client_ref_makes_a_repeated_add_return_the_same_order(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    fields = {"link": "@a", "quantity": str(service.min)}

    first = order_place(user=customer, service_id=service.pk, fields=fields, client_ref="abc-1")
    again = order_place(user=customer, service_id=service.pk, fields=fields, client_ref=" abc-1 ")

    assert again.pk == first.pk
    assert BalanceTransaction.objects.filter(order_id=first.pk).count() == 1


def test_client_ref_is_per_user(
    customer: User, reseller: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    fields = {"link": "@a", "quantity": str(service.min)}
    others = {**fields, "link": "@b"}  # one open order per link: each its own
    assert (
        order_place(user=customer, service_id=service.pk, fields=fields, client_ref="same").pk
        != order_place(user=reseller, service_id=service.pk, fields=others, client_ref="same").pk
    )


def test_client_ref_longer_than_64_is_refused(
    customer: User, service_of: Callable[..., Service]
) -> None:
    with pytest.raises(InvalidOrderField):
        order_place(
            user=customer,
            service_id=service_of().pk,
            fields={"link": "@a", "quantity": "100"},
            client_ref="x" * 65,
        )


def test_mass_order_places_good_lines_and_reports_bad_ones(
    customer: User, service_of: Callable[..., Service]
) -> None:
    service = service_of()
    text = f"{service.pk}|https://x.com/1|{service.min}\n\n{service.pk} | @b | 1\n999999|@c|100\nnonsense\n{service.pk}|@d|{service.min}"

    results = orders_place_mass(user=customer, text=text)

    assert [bool(line.order) for line in results] == [True, False, False, False, True]
    assert results[1].error == f"Quantity less than minimal {service.min}"
    assert results[2].error == "Incorrect service ID"
    assert Order.objects.filter(user=customer, source=Source.MASS).count() == 2


def test_product_order_place_charges_per_unit(customer: User, catalog: Provider) -> None:
    product = Product.objects.filter(is_in_stock=True).exclude(require="").order_by("pk").first()

    order = product_order_place(
        user=customer, product_id=product.pk, quantity=str(product.min), require="me@example.com"
    )

    assert order.charge == product.rate * product.min
    assert BalanceTransaction.objects.get(product_order_id=order.pk).amount == -order.charge


def test_product_order_checks_stock_require_and_id(customer: User, catalog: Provider) -> None:
    out_of_stock = Product.objects.filter(is_in_stock=False).first()
    needs_input = Product.objects.filter(is_in_stock=True).exclude(require="").first()
    with pytest.raises(OutOfStock):
        product_order_place(user=customer, product_id=out_of_stock.pk, quantity=1, require="x")
    with pytest.raises(InvalidOrderField):
        product_order_place(
            user=customer, product_id=needs_input.pk, quantity=needs_input.min, require="  "
        )
    with pytest.raises(IncorrectProduct):
        product_order_place(user=customer, product_id="0", quantity=1, require="x")
    assert not ProductOrder.objects.exists()


# Each race both ways: placed alone (outside any transaction, as the API's `add` places: the
# balance's check constraint refuses) and inside the caller's transaction (the web form, the
# bot, admin: the statement's own floor refuses, the caller deletes the row before its commit).
_ALONE_OR_INSIDE = pytest.mark.parametrize("inside", [False, True], ids=["alone", "inside"])


@pytest.mark.django_db(transaction=True)
@_ALONE_OR_INSIDE
def test_racing_orders_never_overdraw(catalog: Provider, inside: bool) -> None:
    # given a user who can afford exactly 5 orders, and 20 threads ordering at once
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    charge = charge_of(service, service.min)
    user = UserFactory(funds=charge * 5)

    def order(number: int) -> bool:
        try:
            with transaction.atomic() if inside else nullcontext():
                order_place(
                    user=user,
                    service_id=service.pk,
                    fields={"link": f"@u{number}", "quantity": str(service.min)},
                )
        except InsufficientFunds:
            return False
        finally:
            connection.close()
        return True

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(order, range(20)))

    user.refresh_from_db()
    assert outcomes.count(True) == 5 == Order.objects.filter(user=user).count()
    assert OrderEvent.objects.filter(order__user=user).count() == 5  # none left by a refusal
    assert user.balance == Decimal(0)


@pytest.mark.django_db(transaction=True)
@_ALONE_OR_INSIDE
def test_double_submit_of_one_client_ref_charges_once(catalog: Provider, inside: bool) -> None:
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT).order_by("pk").first()
    )
    user = UserFactory(funds=Decimal(100))

    def submit(_: int) -> int:
        try:
            with transaction.atomic() if inside else nullcontext():
                return order_place(
                    user=user,
                    service_id=service.pk,
                    fields={"link": "@a", "quantity": str(service.min)},
                    client_ref="dup",
                ).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(submit, range(8)))

    assert len(ids) == 1
    assert (
        BalanceTransaction.objects.filter(user=user, kind=BalanceTransaction.Kind.CHARGE).count()
        == 1
    )
