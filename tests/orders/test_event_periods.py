"""An event's month (docs/scaling.md, "Monthly partitions"): its subject's, read by the database
from the months' registry as the ledger's is, never defaulted to the month it was written in, so
a process whose clock is behind does not put an order's history in the neighbouring month's
partition."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from core.db.partitions import PeriodMissing, current_period, next_period, period_of
from orders.lifecycle.events import (
    Actor,
    event_for,
    event_record,
    event_values,
    events_insert,
)
from orders.models import Order, OrderEvent, Refill
from orders.partitions import partitions_prepare_all
from tests.partitions import month_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_period_registry")]


def _partitions(**subject: int) -> list[tuple[int, str]]:
    """The period and the partition of each event of a subject, oldest first."""
    column, subject_id = next(iter(subject.items()))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT period, tableoid::regclass::text FROM orders_orderevent WHERE "{column}" = %s '  # noqa: S608 - test names
            "ORDER BY id",
            [subject_id],
        )
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


def test_a_process_whose_clock_is_behind_still_writes_the_events_true_month(
    place: Callable[..., Order],
) -> None:
    month = current_period()
    coming = next_period(month)
    order = place()
    partitions_prepare_all()
    # the month's first refill: a month no id was taken in shares its first id
    earlier = Refill.objects.create(
        order=order, user=order.user, provider=order.provider, status="Rejected"
    )
    # given a process whose clock is an hour behind at the month's turn: it read the months
    # while its clock said the month had most of an hour left, past the margin it allows
    with time_machine.travel(month_start(coming) - timedelta(hours=1), tick=False):
        assert period_of("orders_refill", earlier.pk) == month
        # and beat, on the right clock, has marked the new month, whose first refill follows
        partitions_prepare_all(now=month_start(coming))
        refill = Refill.objects.create(order=order, user=order.user, provider=order.provider)
        # the process's own reckoning is still the old month's
        assert period_of("orders_refill", refill.pk) == month
        # when it records one event of the refill, and a poll writes two more in one statement
        saved = event_record(refill, field="refill", new="Pending", actor=Actor.WORKER)
        events_insert(
            [
                event_values(
                    refill.pk, target_model=Refill, field="status", new=status, actor=Actor.POLLER
                )
                for status in ("In progress", "Completed")
            ],
            same={"created_at": saved.created_at},
        )

    # then every event is in the refill's true month, and the saved one says so
    assert saved.period == coming
    assert _partitions(refill_id=refill.pk) == [(coming, f"orders_orderevent_p{coming}")] * 3


def test_a_poll_batch_of_several_subjects_takes_each_ones_month(
    place: Callable[..., Order],
) -> None:
    # given an order of this month or the next, and a refill of the month after (beat marked it)
    order = place()
    partitions_prepare_all()
    Refill.objects.create(order=order, user=order.user, provider=order.provider, status="Rejected")
    later = next_period(current_period(), 2)
    partitions_prepare_all(now=month_start(later))
    refill = Refill.objects.create(order=order, user=order.user, provider=order.provider)
    month = period_of("orders_order", order.pk)

    # when one statement writes an event of each
    events_insert(
        [
            event_values(
                order.pk, target_model=Order, field="status", new="Partial", actor="poller"
            ),
            event_values(
                refill.pk, target_model=Refill, field="status", new="Completed", actor="poller"
            ),
        ],
        same={"created_at": order.created_at},
    )

    # then each is in its subject's month
    assert month < later
    assert _partitions(order_id=order.pk)[-1] == (month, f"orders_orderevent_p{month}")
    assert _partitions(refill_id=refill.pk) == [(later, f"orders_orderevent_p{later}")]


def test_an_event_saved_without_its_period_fails_and_writes_nothing(
    place: Callable[..., Order],
) -> None:
    order = place()
    before = OrderEvent.objects.count()
    forgetful = {"order": order, "field": "note", "message": "no period", "actor": "admin"}

    # Raised within save(), which marks the transaction as failed, as a database error does.
    with pytest.raises(PeriodMissing, match="OrderEvent.period not given"), transaction.atomic():
        OrderEvent.objects.create(**forgetful)
    with pytest.raises(PeriodMissing), transaction.atomic():
        OrderEvent.objects.bulk_create([OrderEvent(**forgetful)])
    # An insert by hand that leaves it out breaks NOT NULL instead of taking this month.
    with pytest.raises(IntegrityError, match="period"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO orders_orderevent (order_id, field, old_value, new_value, message, "
                "actor, created_at) VALUES (%s, 'note', '', '', '', 'admin', now())",
                [order.pk],
            )

    assert OrderEvent.objects.count() == before


def test_an_event_about_an_id_reads_its_month_back_after_save(place: Callable[..., Order]) -> None:
    order = place()

    event = event_for(order.pk, target_model=Order, field="note", actor=Actor.ADMIN)
    event.save()

    # The instance holds the month written, not the SQL that computed it.
    assert event.period == period_of("orders_order", order.pk)
    assert OrderEvent.objects.get(pk=event.pk).period == event.period
