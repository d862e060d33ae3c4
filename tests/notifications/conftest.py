from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import User
from notifications.models import Notification
from notifications.services import Event, notifications_add, order_final_event


@pytest.fixture
def order_emails(customer: User) -> Callable[[int], list[Notification]]:
    """`n` pending order-final emails for the customer (orders 1..n)."""

    def make(n: int, user: User | None = None) -> list[Notification]:
        user = user or customer
        events: list[Event] = [
            order_final_event(order_id=i, user_id=user.pk, status="Completed", refund=Decimal(0))
            for i in range(1, n + 1)
        ]
        notifications_add(events=events)
        return list(Notification.objects.order_by("id"))

    return make
