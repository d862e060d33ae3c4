"""Average delivery times: last 10 completed orders per service, per 1,000 units, in bulk."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from orders.delivery_times import service_delivery_times_refresh
from orders.models import DispatchState, Order, OrderStatus
from providers.delivery_time import duration_text
from providers.models import Service
from tests.support import order_finalize

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _finished(
    place: Callable[..., Order],
    service: Service,
    *,
    minutes: int,
    quantity: int = 1000,
    status: str = OrderStatus.COMPLETED,
    at: datetime = START,
) -> Order:
    with time_machine.travel(at, tick=False):
        order = place(service=service, quantity=quantity)
    # at the provider (a final status is only written for a row that was sent)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENT)
    with time_machine.travel(at + timedelta(minutes=minutes), tick=False):
        order_finalize(order_id=order.pk, status=status, actor="poller", remains=0)
    return order


def test_fewer_than_three_completed_orders_is_not_enough_data(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    _finished(place, service, minutes=30)
    _finished(place, service, minutes=30)
    _finished(place, service, minutes=5, status=OrderStatus.PARTIAL)
    _finished(place, service, minutes=5, status=OrderStatus.CANCELED)

    service_delivery_times_refresh()

    service.refresh_from_db()
    assert service.average_time_seconds is None
    assert duration_text(service.average_time_seconds) == "Not enough data"


def test_the_average_is_per_1000_units_over_the_last_ten_completed_orders(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    service = service_of()
    # given 5 old slow orders, then 10 recent ones: 1000 in 60 min and 2000 in 60 min alternately
    for i in range(5):
        _finished(place, service, minutes=600, at=START + timedelta(hours=i))
    for i in range(10):
        quantity = 1000 if i % 2 == 0 else 2000
        _finished(
            place, service, minutes=60, quantity=quantity, at=START + timedelta(days=1, hours=i)
        )
    _finished(place, service, minutes=1, status=OrderStatus.PARTIAL, at=START + timedelta(days=2))

    # when
    changed = service_delivery_times_refresh()

    # then: mean of 60 min and 30 min per 1000
    service.refresh_from_db()
    assert changed == 1
    assert service.average_time_seconds == 45 * 60
    assert duration_text(service.average_time_seconds) == "45 min"


def test_a_refresh_since_a_time_touches_only_services_with_new_completions(
    place: Callable[..., Order], service_of: Callable[..., Service]
) -> None:
    busy, quiet = (
        service_of(),
        Service.objects.exclude(pk=service_of().pk).filter(type="Default").first(),
    )
    for _ in range(3):
        _finished(place, busy, minutes=120)
        _finished(place, quiet, minutes=120)
    Service.objects.update(average_time_seconds=None)
    with time_machine.travel(START + timedelta(days=1), tick=False):
        for _ in range(3):
            _finished(place, busy, minutes=60, at=START + timedelta(days=1))

    service_delivery_times_refresh(since=START + timedelta(hours=12))

    busy.refresh_from_db()
    quiet.refresh_from_db()
    assert busy.average_time_seconds == round((3 * 7200 + 3 * 3600) / 6)
    assert quiet.average_time_seconds is None  # not recomputed: nothing completed since


def test_the_api_shows_the_average_time(
    place: Callable[..., Order], service_of: Callable[..., Service], reseller_key: str
) -> None:
    # (the pages show the scorecard instead: tests/orders/test_scorecard.py)
    service = service_of()
    for _ in range(3):
        _finished(place, service, minutes=135)
    service_delivery_times_refresh()

    answer = Client().post("/api/v2", {"key": reseller_key, "action": "services"}).json()

    by_id = {row["service"]: row for row in answer}
    assert by_id[service.pk]["average_time"] == str(135 * 60)
    assert all("average_time" not in row for pk, row in by_id.items() if pk != service.pk)
