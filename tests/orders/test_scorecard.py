"""The scorecard: percentiles of start and completion times, partial and refill rates, per
service and per route, from real orders of the window, stored by one refresh."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import User
from orders.lifecycle import By, Finish, Kind, dispatch_move, finish, status_start
from orders.models import DispatchState, Order, OrderStatus, Refill, RefillStatus
from orders.scorecard import service_scores_refresh
from providers.delivery_time import rough_duration_text, usual_time_text
from providers.models import RouteScore, Service, ServiceScore
from providers.services import route_add
from tests.support import order_finalize

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _small_sample(settings) -> None:  # noqa: ANN001
    settings.PANEL_SCORECARD_MIN_ORDERS = 3
    settings.PANEL_SCORECARD_DAYS = 30


def _finished(
    place: Callable[..., Order],
    service: Service,
    *,
    start_minutes: int | None,
    done_minutes: int,
    quantity: int = 1000,
    status: str = OrderStatus.COMPLETED,
    at: datetime = NOW - timedelta(days=1),
) -> Order:
    """An order placed `at`, started `start_minutes` later (None: never reported started),
    finished `done_minutes` after placing; each step through the lifecycle."""
    with time_machine.travel(at, tick=False):
        order = place(service=service, quantity=quantity)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENT)
    if start_minutes is not None:
        with time_machine.travel(at + timedelta(minutes=start_minutes), tick=False):
            status_start(order.pk, to_status=OrderStatus.IN_PROGRESS, actor=By("poller"))
    remains = quantity // 2 if status == OrderStatus.PARTIAL else 0
    with time_machine.travel(at + timedelta(minutes=done_minutes), tick=False):
        order_finalize(order_id=order.pk, status=status, actor="poller", remains=remains)
    return order


def _refresh() -> None:
    service_scores_refresh(now=NOW)


def test_percentiles_of_start_and_completion_per_1000_units(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    # given five completed orders of 1000 started after 1..5 min and done after 10..50 min,
    # and one of 2000 done in 120 min (60 min per 1000)
    service = service_of()
    for i in range(1, 6):
        _finished(place, service, start_minutes=i, done_minutes=10 * i)
    _finished(place, service, start_minutes=6, done_minutes=120, quantity=2000)
    # when
    _refresh()
    # then: medians and 90th percentiles, interpolated as percentile_cont does
    score = ServiceScore.objects.get(service=service)
    assert (score.orders, score.started, score.completed, score.partial) == (6, 6, 6, 0)
    assert score.start_p50_seconds == 210  # between 3 and 4 min
    assert score.start_p90_seconds == 330  # 5.5 min
    assert score.complete_p50_seconds == 35 * 60  # 30 and 40 min
    assert score.complete_p90_seconds == 55 * 60  # between 50 and 60 min per 1000
    assert score.partial_percent == Decimal("0.00")


def test_partial_rate_counts_partials_among_completed_and_partial_and_ignores_canceled(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    for _ in range(3):
        _finished(place, service, start_minutes=1, done_minutes=30)
    _finished(place, service, start_minutes=1, done_minutes=30, status=OrderStatus.PARTIAL)
    _finished(place, service, start_minutes=None, done_minutes=5, status=OrderStatus.CANCELED)

    _refresh()

    score = ServiceScore.objects.get(service=service)
    assert (score.orders, score.completed, score.partial) == (4, 3, 1)
    assert score.partial_percent == Decimal("25.00")
    # a Partial's time counts for the start, never for completion
    assert score.complete_p90_seconds == 30 * 60


def test_below_the_minimum_sample_a_figure_stays_empty(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    # given two completed orders and a Partial: three finished, two completed
    service = service_of()
    _finished(place, service, start_minutes=2, done_minutes=30)
    _finished(place, service, start_minutes=2, done_minutes=30)
    _finished(place, service, start_minutes=2, done_minutes=30, status=OrderStatus.PARTIAL)

    _refresh()

    score = ServiceScore.objects.get(service=service)
    assert score.started == 3 and score.start_p50_seconds == 120
    assert score.completed == 2 and score.complete_p50_seconds is None
    assert usual_time_text(start=score.start_p50_seconds, done=None, is_package=False) == (
        "usually starts in 2 min"
    )


def test_an_order_that_went_straight_to_completed_started_when_it_completed(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    for _ in range(3):
        _finished(place, service, start_minutes=None, done_minutes=45)

    _refresh()

    score = ServiceScore.objects.get(service=service)
    assert score.start_p50_seconds == score.complete_p50_seconds == 45 * 60


def test_orders_placed_before_the_window_do_not_count(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    for _ in range(3):
        _finished(place, service, start_minutes=1, done_minutes=600, at=NOW - timedelta(days=31))
    for _ in range(3):
        _finished(place, service, start_minutes=1, done_minutes=60)

    _refresh()

    score = ServiceScore.objects.get(service=service)
    assert score.orders == 3 and score.complete_p90_seconds == 3600


def test_each_route_has_its_own_scorecard_and_a_refresh_replaces_the_last(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    # given a routed service (its home route) with three orders, and an order of another
    # service without routes
    service = service_of()
    other = Service.objects.filter(type=service.type).exclude(pk=service.pk).first()
    home = route_add(service=service, target=service)
    for _ in range(3):
        _finished(place, service, start_minutes=1, done_minutes=20)
    _finished(place, other, start_minutes=1, done_minutes=20)
    RouteScore.objects.create(route=home, orders=99, computed_at=NOW)  # from an earlier run
    # when
    _refresh()
    # then
    assert RouteScore.objects.get(route=home).orders == 3
    assert RouteScore.objects.count() == 1  # the other service's orders took no route
    assert ServiceScore.objects.get(service=other).orders == 1
    assert ServiceScore.objects.get(service=other).complete_p50_seconds is None


def test_refill_success_rate_from_finished_refills(
    place: Callable[..., Order], service_of: Callable[..., Service], customer: User
) -> None:
    service = service_of()
    order = _finished(place, service, start_minutes=1, done_minutes=20)
    worker = By("worker")
    outcomes = [RefillStatus.COMPLETED] * 3 + [RefillStatus.REJECTED, RefillStatus.PENDING]
    for status in outcomes:
        refill = Refill.objects.create(order=order, user=customer, provider=order.provider)
        dispatch_move(
            Kind.REFILL,
            refill.pk,
            from_state=DispatchState.QUEUED,
            to_state=DispatchState.SENDING,
            actor=worker,
        )
        dispatch_move(
            Kind.REFILL,
            refill.pk,
            from_state=DispatchState.SENDING,
            to_state=DispatchState.SENT,
            actor=worker,
            upstream_id=f"r{refill.pk}",
        )
        if status != RefillStatus.PENDING:
            finish(Kind.REFILL, refill.pk, Finish(status=status), actor=worker)

    with time_machine.travel(NOW, tick=False):
        service_scores_refresh()

    score = ServiceScore.objects.get(service=service)
    assert score.refills == 4
    assert score.refill_success_percent == Decimal("75.00")


def test_services_page_shows_the_scorecard_in_both_languages(
    client: Client, place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    for _ in range(3):
        _finished(place, service, start_minutes=10, done_minutes=180)
    _refresh()

    english = client.get(reverse("services"), {"q": str(service.pk)}).content.decode()
    client.cookies["django_language"] = "vi"
    vietnamese = client.get(reverse("services"), {"q": str(service.pk)}).content.decode()

    assert "usually starts in 10 min, 1000 done in 3 h" in english
    assert "9 in 10 done within 3 h per 1000" in english
    assert "thường bắt đầu sau 10 phút, xong 1000 trong 3 giờ" in vietnamese


def test_a_service_without_enough_orders_shows_a_dash(
    client: Client, service_of: Callable[..., Service]
) -> None:
    service = service_of()

    page = client.get(reverse("services"), {"q": str(service.pk)}).content.decode()

    assert "Not enough data" not in page
    assert '<td class="time" data-label="Usual time"><span>—</span></td>' in page


def test_the_order_form_card_and_its_options_show_the_scorecard(
    place: Callable[..., Order],
    service_of: Callable[..., Service],
    client: Client,
    customer: User,
) -> None:
    service = service_of()
    for _ in range(3):
        _finished(place, service, start_minutes=5, done_minutes=90)
    _refresh()
    client.force_login(customer)

    page = client.get(reverse("order_new") + f"?service={service.pk}").content.decode()
    options = client.get(
        reverse("order_service_options") + f"?category={service.category_id}"
    ).json()

    sentence = "usually starts in 5 min, 1000 done in 1 h 30 min"
    assert f'data-usual-time="{sentence}"' in page and f">{sentence}</dd>" in page
    shown = {s["id"]: s for s in options["services"]}[service.pk]
    assert (shown["usual_time"], shown["partial_rate"]) == (sentence, "0%")
    assert shown["slow_time"] == "9 in 10 done within 1 h 30 min per 1000"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (20, "under a minute"),
        (10 * 60 + 20, "10 min"),
        (3 * 3600 + 60, "3 h"),
        (2 * 3600 + 14 * 60, "2 h 15 min"),
        (13 * 3600 + 40 * 60, "14 h"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
        (3 * 86400 + 600, "3 d"),
    ],
)
def test_rough_durations(seconds: int, text: str) -> None:
    assert rough_duration_text(seconds) == text
