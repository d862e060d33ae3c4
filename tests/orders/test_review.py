"""Rows in review: send again only where the add provably didn't land (defect 1), Partial
without figures finished by an admin (defect 2), package refunds (defect 4), bulk attach."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from orders.errors import InvalidTransition
from orders.lifecycle import Kind, Reason, Resolution
from orders.models import DispatchState, Order, OrderStatus
from orders.services import (
    Answer,
    can_cancel,
    order_forward,
    order_place,
    review_attach_many,
    review_resolve,
)
from orders.services.polling import MISS_LIMIT, ORDERS, _apply
from providers.client import ItemError, UpstreamOrderStatus
from providers.models import Provider, Service, ServiceType
from sandbox import SandboxServer
from tests.support import sandbox_control, sandbox_stats

REVIEW = DispatchState.NEEDS_REVIEW


def _answer(order: Order, answer: object) -> None:
    rows = list(
        Order.objects.filter(pk=order.pk).values(
            "id",
            "upstream_id",
            "poll_idle_count",
            "poll_miss_count",
            *ORDERS.fields,
            **ORDERS.computed,
        )
    )
    _apply(ORDERS, Provider.objects.get(), rows, {order.upstream_id: answer})
    order.refresh_from_db()


def _status(status: str, *, remains: int | None = None, charge: str | None = None) -> object:
    return UpstreamOrderStatus(
        status=status,
        charge=None if charge is None else Decimal(charge),
        start_count=1,
        remains=remains,
        currency="USD",
    )


def _resolve(order: Order, resolution: str, admin: User, answer: Answer | None = None) -> None:
    review_resolve(
        kind=Kind.ORDER, pk=order.pk, resolution=resolution, admin=admin, answer=answer or Answer()
    )


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


# --- Defect 1: "send again" never buys twice ---------------------------------------------------


def test_send_again_is_refused_for_an_order_the_poller_flagged(
    sent: Callable[..., Order], staff: User, sandbox: SandboxServer
) -> None:
    # given an order at the provider that the poller handed over (missing upstream)
    order = sent()
    for _ in range(MISS_LIMIT):
        _answer(order, ItemError("Incorrect order ID"))
    assert (order.dispatch_state, order.review_reason) == (REVIEW, Reason.MISSING_UPSTREAM)

    # when an admin tries to send it again, even claiming it is not there
    with pytest.raises(InvalidTransition):
        _resolve(order, Resolution.SEND_AGAIN, staff, Answer(confirmed_absent=True))

    # then nothing was re-added and its upstream id is kept
    order.refresh_from_db()
    assert order.dispatch_state == REVIEW and order.upstream_id
    assert sandbox_stats(sandbox)["adds_per_link"][order.link] == 1


@pytest.mark.usefixtures("sandbox")
def test_send_again_after_an_unknown_add_needs_the_admins_check(
    place: Callable[..., Order], staff: User
) -> None:
    order = place()
    Order.objects.filter(pk=order.pk).update(dispatch_state=REVIEW, review_reason="add_unknown")

    with pytest.raises(InvalidTransition, match="Confirm"):
        _resolve(order, Resolution.SEND_AGAIN, staff)
    _resolve(order, Resolution.SEND_AGAIN, staff, Answer(confirmed_absent=True))

    order.refresh_from_db()
    assert order.dispatch_state == DispatchState.QUEUED
    assert order_forward(order_id=order.pk) == "sent"


def test_bulk_send_again_refuses_orders_that_are_at_the_provider(
    admin_client: Client,
    sent: Callable[..., Order],
    place: Callable[..., Order],
    sandbox: SandboxServer,
) -> None:
    # given one order flagged after it landed, and one whose add's outcome is unknown
    landed, unknown = sent(), place()
    Order.objects.filter(pk=landed.pk).update(dispatch_state=REVIEW, review_reason="unknown_status")
    Order.objects.filter(pk=unknown.pk).update(dispatch_state=REVIEW, review_reason="add_unknown")
    url = reverse("admin:orders_order_changelist")
    selected = {"action": "send_again", "_selected_action": [landed.pk, unknown.pk]}

    # the action first asks for the check, and says which rows it refuses
    page = admin_client.post(url, selected)
    assert page.status_code == 200 and "refused" in page.content.decode()
    assert Order.objects.filter(dispatch_state=REVIEW).count() == 2

    # when the admin confirms
    admin_client.post(url, {**selected, "confirm": "1", "confirmed_absent": "on"})

    # then only the one that may never have landed goes again
    landed.refresh_from_db(), unknown.refresh_from_db()
    assert landed.dispatch_state == REVIEW
    assert unknown.dispatch_state == DispatchState.QUEUED
    assert sandbox_stats(sandbox)["adds_per_link"][landed.link] == 1


def test_a_view_only_staff_user_cannot_resolve(
    client: Client, place: Callable[..., Order], db: None
) -> None:
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = place()
    Order.objects.filter(pk=order.pk).update(dispatch_state=REVIEW, review_reason="add_unknown")

    assert client.get(reverse("admin:orders_order_resolve", args=[order.pk])).status_code == 403
    assert client.get(reverse("admin:orders_order_bulk_attach")).status_code == 403
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [order.pk]},
    )
    order.refresh_from_db()
    assert order.dispatch_state == REVIEW and order.refunded == 0


# --- Defect 2: a Partial without figures is finished by the admin -------------------------------


def test_partial_without_figures_is_finished_with_the_delivered_quantity(
    sent: Callable[..., Order], staff: User, customer: User
) -> None:
    # given a Partial the provider gave neither remains nor charge for
    order = sent(quantity=1000)
    _answer(order, _status("Partial"))
    assert (order.dispatch_state, order.review_reason) == (REVIEW, Reason.PARTIAL_NO_FIGURES)
    assert order.status == OrderStatus.IN_PROGRESS and not can_cancel(order=order)

    # the resolutions that would lose money are refused
    for resolution in (Resolution.CANCEL_REFUND, Resolution.RESUME_POLLING):
        with pytest.raises(InvalidTransition):
            _resolve(order, resolution, staff)

    # when the admin says 600 of 1000 were delivered
    _resolve(order, Resolution.FINISH_PARTIAL, staff, Answer(delivered=600))

    # then it is Partial with exactly 40 % back
    order.refresh_from_db()
    assert (order.status, order.remains, order.refunded) == (
        OrderStatus.PARTIAL,
        400,
        order.charge * Decimal("0.4"),
    )
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - order.charge + order.refunded


def test_partial_without_figures_is_finished_with_the_providers_charge(
    sent: Callable[..., Order], staff: User
) -> None:
    order = sent(quantity=1000)
    _answer(order, _status("Partial"))
    upstream_full = order.upstream_rate  # per 1000, and the order is of 1000

    _resolve(order, Resolution.FINISH_PARTIAL, staff, Answer(upstream_charge=upstream_full / 4))

    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.PARTIAL, order.charge * Decimal("0.75"))


def test_finish_partial_refuses_impossible_figures(sent: Callable[..., Order], staff: User) -> None:
    order = sent(quantity=1000)
    _answer(order, _status("Partial"))
    for answer in (
        Answer(),
        Answer(delivered=1001),
        Answer(delivered=1, upstream_charge=Decimal(1)),
    ):
        with pytest.raises(InvalidTransition):
            _resolve(order, Resolution.FINISH_PARTIAL, staff, answer)
    order.refresh_from_db()
    assert order.dispatch_state == REVIEW and order.refunded == 0


# --- Defect 4: package orders refund against the package, not against 1 ------------------------


def _package_order(customer: User, service_type: str, **fields: str) -> Order:
    service = Service.objects.filter(type=service_type).order_by("pk").first()
    assert service is not None
    order = order_place(
        user=customer, service_id=service.pk, fields={"link": "https://x.com/p", **fields}
    )
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    return order


@pytest.mark.usefixtures("catalog")
def test_a_package_partial_with_remains_only_is_not_refunded_in_full(customer: User) -> None:
    order = _package_order(customer, ServiceType.PACKAGE)

    _answer(order, _status("Partial", remains=3))

    # remains of an unknown package size measure nothing: a person decides, nothing refunded
    assert order.refunded == 0 and order.review_reason == Reason.PARTIAL_NO_FIGURES


@pytest.mark.usefixtures("catalog")
def test_a_package_partial_is_refunded_by_the_providers_charge(customer: User) -> None:
    order = _package_order(customer, ServiceType.PACKAGE)

    _answer(order, _status("Partial", remains=3, charge=str(order.upstream_rate * Decimal("0.9"))))

    assert order.status == OrderStatus.PARTIAL
    assert order.refunded == (order.charge * Decimal("0.1")).quantize(Decimal("0.000001"))


@pytest.mark.usefixtures("catalog")
def test_a_comments_package_partial_counts_its_comments(customer: User) -> None:
    comments = "\n".join(f"nice {i}" for i in range(10))
    order = _package_order(customer, ServiceType.CUSTOM_COMMENTS_PACKAGE, comments=comments)

    _answer(order, _status("Partial", remains=3))

    assert order.status == OrderStatus.PARTIAL
    assert order.refunded == (order.charge * Decimal("0.3")).quantize(Decimal("0.000001"))


# --- Resolving in bulk ------------------------------------------------------------------------


def test_bulk_attach_resumes_polling_and_refuses_bad_lines(
    sent: Callable[..., Order], place: Callable[..., Order], staff: User, sandbox: SandboxServer
) -> None:
    # given two orders whose adds landed but whose answers were lost, and one sent normally
    lost_a, lost_b, normal = sent(), sent(), sent()
    ids = {o.pk: o.upstream_id for o in (lost_a, lost_b)}
    Order.objects.filter(pk__in=ids).update(
        dispatch_state=REVIEW, review_reason="add_unknown", upstream_id=None
    )
    text = "\n".join(
        [
            f"{lost_a.pk}, {ids[lost_a.pk]}",
            f"{lost_b.pk}\t{normal.upstream_id}",  # another order already has this id
            f"{normal.pk}, 999999",  # not in review
            "nonsense",
            f"{lost_b.pk} {ids[lost_b.pk]}",
        ]
    )

    results = review_attach_many(text=text, admin=staff)

    assert [bool(line.error) for line in results] == [False, True, True, True, False]
    assert "already used" in results[1].error
    for order in (lost_a, lost_b):
        order.refresh_from_db()
        assert (order.dispatch_state, order.upstream_id) == (DispatchState.SENT, ids[order.pk])
        assert order.next_poll_at <= timezone.now() + timedelta(seconds=1)
    sandbox_control(sandbox, "force", order=int(ids[lost_a.pk]), status="Completed")


def test_bulk_attach_page_shows_a_result_per_line(
    admin_client: Client, sent: Callable[..., Order]
) -> None:
    order = sent()
    upstream_id = order.upstream_id
    Order.objects.filter(pk=order.pk).update(
        dispatch_state=REVIEW, review_reason="worker_lost", upstream_id=None
    )
    page = admin_client.post(
        reverse("admin:orders_order_bulk_attach"),
        {"lines": f"{order.pk}, {upstream_id}\n12345678, 1"},
    ).content.decode()

    assert "attached, polling resumed" in page and "Order 12345678 is not in review" in page
    order.refresh_from_db()
    assert order.dispatch_state == DispatchState.SENT


def test_the_resolve_page_offers_only_what_the_reason_allows_and_finishes_a_partial(
    admin_client: Client, sent: Callable[..., Order]
) -> None:
    order = sent(quantity=1000)
    _answer(order, _status("Partial"))
    url = reverse("admin:orders_order_resolve", args=[order.pk])

    page = admin_client.get(url)
    assert [value for value, _ in page.context["form"].fields["resolution"].choices] == ["partial"]
    assert "confirmed_absent" not in page.context["form"].fields
    assert "counts against 1000" in page.content.decode()

    admin_client.post(url, {"resolution": "partial", "delivered": "500"})
    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.PARTIAL, order.charge / 2)
    assert order.events.filter(actor="admin", new_value="Partial").exists()


def test_two_admins_resolving_at_once_resolve_once(
    place: Callable[..., Order], staff: User, django_capture_on_commit_callbacks: Callable
) -> None:
    from orders.services import review as review_service

    order = place()
    Order.objects.filter(pk=order.pk).update(dispatch_state=REVIEW, review_reason="add_unknown")
    row = review_service._reviewable(Kind.ORDER, order.pk)  # read by the first admin
    _resolve(order, Resolution.CANCEL_REFUND, staff)  # the second admin is quicker

    with django_capture_on_commit_callbacks() as queued, pytest.raises(InvalidTransition):
        review_service._send_again(
            Kind.ORDER, row, review_service.By("admin", staff), Answer(confirmed_absent=True)
        )
    assert queued == []  # nothing sent
    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.CANCELED, order.charge)
