"""How the poller reads answers real providers send besides the tidy ones: partials without
remains, statuses outside the protocol, errors for one id."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import BalanceTransaction, User
from orders.errors import InvalidTransition
from orders.lifecycle import Kind, Resolution
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
)
from orders.services import Answer, product_order_forward, product_order_place, review_resolve
from orders.services.polling import CLAIMED_FIELDS, MISS_LIMIT, ORDERS, PRODUCT_ORDERS, _apply
from providers.client import ItemError, UpstreamOrderStatus, UpstreamProductOrderStatus
from providers.models import Product, Provider
from sandbox import SandboxServer
from tests.support import sandbox_control


def _answer(order: Order, answer: object, spec: object = ORDERS) -> None:
    model = spec.model
    rows = list(
        model.objects.filter(pk=order.pk).values(*CLAIMED_FIELDS, *spec.fields, **spec.computed)
    )
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

    # the customer sees it worked on, not a Partial whose refund does not exist yet
    assert (
        order.status == OrderStatus.IN_PROGRESS
        and order.dispatch_state == DispatchState.NEEDS_REVIEW
    )
    assert _refunds(order) == [] and order.review_reason == "partial_no_figures"


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
        order.status == ProductOrderStatus.IN_PROGRESS
        and order.dispatch_state == DispatchState.NEEDS_REVIEW
    )
    with pytest.raises(InvalidTransition):  # it delivered something: no full refund
        review_resolve(
            kind=Kind.PRODUCT_ORDER, pk=order.pk, resolution=Resolution.CANCEL_REFUND, admin=staff
        )
    review_resolve(
        kind=Kind.PRODUCT_ORDER,
        pk=order.pk,
        resolution=Resolution.FINISH_PARTIAL,
        admin=staff,
        answer=Answer(delivered=0),
    )
    order.refresh_from_db()
    assert (order.status, order.refunded) == (ProductOrderStatus.PARTIAL, order.charge)


# --- Defect 3: product orders and refills are handed over like orders -------------------------


def _product_order(customer: User) -> ProductOrder:
    product = Product.objects.filter(is_in_stock=True).order_by("pk").first()
    order = product_order_place(
        user=customer, product_id=product.pk, quantity=product.min, require="acct"
    )
    assert product_order_forward(product_order_id=order.pk) == "sent"
    order.refresh_from_db()
    return order


def _product_status(status: str) -> UpstreamProductOrderStatus:
    return UpstreamProductOrderStatus(status=status, charge=None, result="", note="")


@pytest.mark.usefixtures("catalog")
def test_a_product_order_with_an_unknown_status_goes_to_review_after_miss_limit(
    customer: User, staff: User
) -> None:
    order = _product_order(customer)
    for poll in range(MISS_LIMIT):
        assert order.dispatch_state == DispatchState.SENT, f"handed over early, at poll {poll}"
        _answer(order, _product_status("Weird"), PRODUCT_ORDERS)

    assert (order.dispatch_state, order.review_reason) == (
        DispatchState.NEEDS_REVIEW,
        "unknown_status",
    )
    review_resolve(
        kind=Kind.PRODUCT_ORDER, pk=order.pk, resolution=Resolution.FINISH_COMPLETED, admin=staff
    )
    order.refresh_from_db()
    assert (order.status, order.refunded) == (ProductOrderStatus.COMPLETED, 0)


@pytest.mark.usefixtures("catalog")
def test_a_refunded_product_order_is_canceled_with_a_full_refund(customer: User) -> None:
    order = _product_order(customer)

    _answer(order, _product_status("Refunded"), PRODUCT_ORDERS)

    assert (order.status, order.refunded) == (ProductOrderStatus.CANCELED, order.charge)


@pytest.mark.usefixtures("catalog")
def test_a_missing_product_order_goes_to_review_after_miss_limit(customer: User) -> None:
    order = _product_order(customer)
    for _ in range(MISS_LIMIT):
        _answer(order, ItemError("Incorrect order ID"), PRODUCT_ORDERS)

    assert order.review_reason == "missing_upstream" and order.status == "Pending"


def _refill(sent: Callable[..., Order], customer: User, sandbox: SandboxServer) -> Refill:
    from orders.services import refill_forward, refill_request

    order = sent(has_refill=True)
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status="Completed")
    _answer(order, _status("Completed", remains=0))
    refill = refill_request(user=customer, order_id=order.pk)
    assert refill_forward(refill_id=refill.pk) == "sent"
    return Refill.objects.get(pk=refill.pk)


@pytest.mark.parametrize("answer", ["Weird", ItemError("Incorrect refill ID")])
def test_a_refill_with_an_unknown_or_missing_status_goes_to_review(
    sent: Callable[..., Order], customer: User, staff: User, answer: object, sandbox: SandboxServer
) -> None:
    from orders.services.polling import REFILLS

    refill = _refill(sent, customer, sandbox)
    for _ in range(MISS_LIMIT):
        _answer(refill, answer, REFILLS)

    assert refill.dispatch_state == DispatchState.NEEDS_REVIEW and refill.review_reason
    review_resolve(
        kind=Kind.REFILL, pk=refill.pk, resolution=Resolution.RESUME_POLLING, admin=staff
    )
    _answer(refill, "Completed", REFILLS)
    assert (refill.status, refill.dispatch_state) == ("Completed", DispatchState.SENT)
