from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from core.bulk import bulk_insert_values, bulk_set, bulk_update_values
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


def test_bulk_writes_keep_text_that_looks_like_array_syntax(customer: User, place) -> None:  # noqa: ANN001
    order = place()
    now = timezone.now()
    awkward = ['a "quoted", {braced} \\ back\\slash', "NULL", "", "  spaced  ", "Việt ✓"]

    bulk_insert_values(
        OrderEvent,
        [
            {"order_id": order.pk, "field": "status", "message": text, "actor": "poller"}
            | {"old_value": "", "new_value": "", "created_at": now}
            for text in awkward
        ],
    )
    bulk_update_values(Order, {order.pk: {"dispatch_error": awkward[0], "status": "In progress"}})

    messages = OrderEvent.objects.filter(order=order, actor="poller").order_by("pk")
    assert list(messages.values_list("message", flat=True)) == awkward
    order.refresh_from_db()
    assert (order.dispatch_error, order.status) == (awkward[0], "In progress")


def test_bulk_set_gives_many_rows_the_same_values(customer: User, place) -> None:  # noqa: ANN001
    first, second, untouched = place(), place(), place()
    later = timezone.now()

    bulk_set(Order, [first.pk, second.pk], {"next_poll_at": later, "poll_idle_count": 3})

    rows = dict(Order.objects.values_list("pk", "poll_idle_count"))
    assert rows == {first.pk: 3, second.pk: 3, untouched.pk: 0}
    assert Order.objects.get(pk=second.pk).next_poll_at == later
