from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from orders.bulk import bulk_insert_values, bulk_update_values
from orders.models import Order, OrderEvent


def test_bulk_update_sets_each_rows_own_values_and_keeps_what_it_does_not_give(
    customer: User, place
) -> None:  # noqa: ANN001
    first, second = place(), place()
    now = timezone.now()

    bulk_update_values(
        Order,
        {
            first.pk: {
                "status": "Partial",
                "remains": 7,
                "refunded": Decimal("0.000001"),
                "finished_at": now,
            },
            second.pk: {"start_count": 12, "remains": None},
        },
    )

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.remains, first.refunded, first.finished_at) == (
        "Partial",
        7,
        Decimal("0.000001"),
        now,
    )
    assert (second.status, second.start_count, second.remains) == (
        "Pending",
        12,
        second.total_quantity,
    )


def test_bulk_insert_takes_attnames_and_leaves_the_rest_null(customer: User, place) -> None:  # noqa: ANN001
    order = place()
    now = timezone.now()

    bulk_insert_values(
        OrderEvent,
        [
            {
                "order_id": order.pk,
                "field": "status",
                "old_value": "Pending",
                "new_value": "Completed",
                "message": "",
                "actor": "poller",
                "created_at": now,
            },
        ],
    )

    event = OrderEvent.objects.get(order=order, new_value="Completed")
    assert (event.actor, event.created_at, event.actor_user_id, event.refill_id) == (
        "poller",
        now,
        None,
        None,
    )
