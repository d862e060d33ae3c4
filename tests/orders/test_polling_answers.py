"""How the poller reads answers real providers send besides the tidy ones: partials without
remains, statuses outside the protocol, errors for one id."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import BalanceTransaction, User
from orders.models import DispatchState, Order, OrderStatus, ProductOrder, ProductOrderStatus
from orders.services import dispatch_resolve_cancel, product_order_forward, product_order_place
from orders.services.polling import CLAIMED_FIELDS, MISS_LIMIT, ORDERS, PRODUCT_ORDERS, _apply
from providers.client import ItemError, UpstreamOrderStatus, UpstreamProductOrderStatus
from providers.models import Product, Provider


def _answer(order: Order, answer: object, spec: object = ORDERS) -> None:
    model = spec.model
    rows = list(model.objects.filter(pk=order.pk).values(*CLAIMED_FIELDS, *spec.fields))
    _apply(spec, Provider.objects.get(), rows, {order.upstream_id: answer})
    order.refresh_from_db()


def _status(
    status: str, *, remains: int | None = None, charge: str | None = None
) -> UpstreamOrderStatus:
    return UpstreamOrderStatus(
        status=status,
        charge=None if charge is None else Decimal(charge),
        start_count=1,
        remains=remains,
        currency="USD",
    )


def _refunds(order: Order) -> list[Decimal]:
    return list(
        BalanceTransaction.objects.filter(order_id=order.pk, kind="refund").values_list(
            "amount", flat=True
        )
    )


def test_partial_without_remains_is_refunded_by_what_upstream_did_not_charge(
    sent: Callable[..., Order],
) -> None:
    order = sent(quantity=1000)
    upstream_full = order.upstream_rate * 1000 / 1000

    _answer(order, _status("In progress", remains=400, charge=str(upstream_full)))
    _answer(order, _status("Partial", remains=None, charge=str(upstream_full / 4)))

    assert order.status == OrderStatus.PARTIAL
    assert _refunds(order) == [order.charge * Decimal("0.75")]  # not the stale remains of 400


def test_partial_without_remains_or_charge_waits_for_a_person(sent: Callable[..., Order]) -> None:
    order = sent(quantity=1000)

    _answer(order, _status("Partial", remains=None, charge=None))

    assert (
        order.status == OrderStatus.PENDING and order.dispatch_state == DispatchState.NEEDS_REVIEW
    )
    assert _refunds(order) == [] and "set the refund by hand" in order.dispatch_error


@pytest.mark.parametrize(
    ("upstream", "ours"),
    [("Active", "In progress"), ("expired", "Completed"), ("Refunded", "Canceled")],
)
def test_statuses_beyond_the_protocol_map_to_the_nearest(
    sent: Callable[..., Order], upstream: str, ours: str
) -> None:
    order = sent(quantity=1000)
    _answer(order, _status(upstream, remains=0))
    assert order.status == ours
    if ours == "Canceled":
        assert _refunds(order) == [order.charge]


def test_an_unknown_status_goes_to_review_after_a_few_polls(sent: Callable[..., Order]) -> None:
    order = sent()
    for _ in range(MISS_LIMIT):
        _answer(order, _status("Fail"))
    assert (
        order.dispatch_state == DispatchState.NEEDS_REVIEW
        and "unknown status 'Fail'" in order.dispatch_error
    )
    assert order.status == OrderStatus.PENDING


def test_one_id_answered_with_an_error_counts_as_a_miss(sent: Callable[..., Order]) -> None:
    order = sent()
    _answer(order, ItemError("Incorrect order ID"))
    assert order.poll_miss_count == 1 and order.dispatch_state == DispatchState.SENT


def test_partial_product_order_without_charge_stays_open_and_admin_can_refund_it(
    customer: User, catalog: Provider, staff: User
) -> None:
    product = Product.objects.filter(is_in_stock=True).order_by("pk").first()
    order = product_order_place(
        user=customer, product_id=product.pk, quantity=product.min, require="acct"
    )
    product_order_forward(product_order_id=order.pk)
    order.refresh_from_db()

    _answer(
        order,
        UpstreamProductOrderStatus(status="Partial", charge=None, result="", note=""),
        PRODUCT_ORDERS,
    )

    assert (
        order.status == ProductOrderStatus.PENDING
        and order.dispatch_state == DispatchState.NEEDS_REVIEW
    )
    dispatch_resolve_cancel(model=ProductOrder, pk=order.pk, admin=staff)
    order.refresh_from_db()
    assert (order.status, order.refunded) == (ProductOrderStatus.CANCELED, order.charge)
