"""A row inserted with its event (core/db/inserts.py): which constraint names `unless_taken`
accepts."""

from collections.abc import Callable

import pytest
from django.db import connection

from core.db.inserts import insert_with_event
from core.db.partitions.keys import key_is_skipped_when_taken
from orders.lifecycle.events import event_for
from orders.models import ONE_OPEN_ORDER_PER_LINK, Order, OrderEvent


def _copy_of(order: Order) -> tuple[Order, OrderEvent]:
    """An unsaved order on the same link as `order`, with its Placed event."""
    values = {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields}
    row = Order(**{name: value for name, value in values.items() if name not in {"id", "period"}})
    return row, event_for(row, field="status", new=row.status, actor="system")


def _skip_flag() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('panel.skip_taken', true)")
        return cursor.fetchone()[0]


def test_a_taken_link_skips_the_row_under_the_trigger_kept_key(
    place: Callable[..., Order],
) -> None:
    row, event = _copy_of(place())

    assert (
        insert_with_event(
            row=row, event=event, link="order_id", unless_taken=ONE_OPEN_ORDER_PER_LINK
        )
        is False
    )
    assert Order.objects.count() == 1
    assert key_is_skipped_when_taken(table="orders_order", name=ONE_OPEN_ORDER_PER_LINK)


@pytest.mark.parametrize("name", ["order_one_open_per_lnk", "order_unique_client_ref"])
def test_a_name_that_is_no_skipped_key_fails_loudly_and_writes_nothing(
    place: Callable[..., Order], name: str
) -> None:
    # given: a misspelt name, and the name of a key whose trigger never skips a row
    row, event = _copy_of(place())
    events = OrderEvent.objects.count()

    # when / then
    with pytest.raises(ValueError, match=name):
        insert_with_event(row=row, event=event, link="order_id", unless_taken=name)
    assert Order.objects.count() == 1 and OrderEvent.objects.count() == events
    assert not _skip_flag()
