from datetime import UTC, datetime, timedelta
from datetime import timezone as tz
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from core.db.arrays import is_constant
from core.db.bulk import (
    GIVEN,
    bulk_add_values,
    bulk_insert_instances,
    bulk_insert_values,
    bulk_update_values,
)
from core.db.partitions import current_period
from orders.models import Order, OrderEvent
from providers.models import Provider


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
                "period": current_period(),
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
            | {"old_value": "", "new_value": "", "created_at": now, "period": current_period()}
            for text in awkward
        ],
    )
    bulk_update_values(Order, {order.pk: {"dispatch_error": awkward[0], "status": "In progress"}})

    messages = OrderEvent.objects.filter(order=order, actor="poller").order_by("pk")
    assert list(messages.values_list("message", flat=True)) == awkward
    order.refresh_from_db()
    assert (order.dispatch_error, order.status) == (awkward[0], "In progress")


def test_bulk_update_sends_a_shared_value_once_and_still_keeps_none(customer: User, place) -> None:  # noqa: ANN001
    # given: a column every row sets alike, one no row gives, and one some rows leave as None
    first, second = place(), place()
    now = timezone.now()

    # when
    written = bulk_update_values(
        Order,
        {
            first.pk: {"status": "Completed", "start_count": None, "remains": 0, "updated_at": now},
            second.pk: {"status": "Completed", "start_count": None, "remains": None}
            | {"updated_at": now},
        },
    )

    # then
    assert written == {first.pk, second.pk}
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.remains, first.updated_at) == ("Completed", 0, now)
    assert (second.status, second.remains, second.updated_at) == (
        "Completed",
        second.total_quantity,
        now,
    )
    assert first.start_count == second.start_count is None


def test_bulk_update_with_only_none_writes_nothing_but_reports_the_rows(
    customer: User, place
) -> None:  # noqa: ANN001
    order = place()

    written = bulk_update_values(Order, {order.pk: {"remains": None}})

    order.refresh_from_db()
    assert (written, order.remains) == ({order.pk}, order.total_quantity)


def test_bulk_update_guard_skips_rows_moved_since_read_with_shared_and_own_guards(
    customer: User, place
) -> None:  # noqa: ANN001
    # given: three rows read as Pending; one has moved since
    first, second, moved = place(), place(), place()
    Order.objects.filter(pk=moved.pk).update(status="Canceled")
    shared = {"status": "Pending"}

    # when: a guard all rows share, then one that differs per row
    written = bulk_update_values(
        Order,
        {pk: {"remains": 5} for pk in (first.pk, second.pk, moved.pk)},
        guard={pk: shared for pk in (first.pk, second.pk, moved.pk)},
    )
    own = bulk_update_values(
        Order,
        {first.pk: {"remains": 4}, second.pk: {"remains": 3}},
        guard={first.pk: {"status": "Pending"}, second.pk: {"status": "Partial"}},
    )

    # then
    assert (written, own) == ({first.pk, second.pk}, {first.pk})
    remains = dict(Order.objects.values_list("pk", "remains"))
    assert (remains[first.pk], remains[second.pk]) == (4, 5)
    assert remains[moved.pk] == moved.remains


def test_bulk_insert_writes_every_row_when_all_columns_are_alike(customer: User, place) -> None:  # noqa: ANN001
    order = place()
    now = timezone.now()
    row = {"order_id": order.pk, "field": "status", "old_value": "", "new_value": "Partial"}
    row |= {"message": "", "actor": "poller", "created_at": now, "period": current_period()}

    bulk_insert_values(OrderEvent, [row, dict(row), dict(row)])
    bulk_insert_values(OrderEvent, [row | {"new_value": "Completed"}])

    events = OrderEvent.objects.filter(order=order, actor="poller")
    assert sorted(events.values_list("new_value", flat=True)) == ["Completed"] + ["Partial"] * 3
    assert {event.created_at for event in events} == {now}


def test_array_literal_reads_back_as_the_values_given(db: None) -> None:
    from django.db import connection

    from core.db.bulk import array_literal

    cases = [
        ("bigint", [1, 2, None, 3]),
        ("bigint", [7, 8]),
        ("numeric", [Decimal("1.50"), Decimal("-0.000001"), None]),
        ("numeric", [Decimal("1.50"), Decimal(2)]),
        ("text", ["a", 'b "quoted"', "c\\d", "NULL", "", None]),
        ("text", ["a", 'b "quoted"', "c\\d"]),
        ("text", ["plain", "NULL", "", " spaced "]),
        ("boolean", [True, False, None]),
        ("text", ["plain", None, "NULL", "", " spaced "]),
        ("bigint", [None, None]),
        ("timestamptz", [datetime(2026, 12, 6, 11, 30, 0, 5, tzinfo=UTC), None]),
        ("timestamptz", [datetime(2026, 12, 6, 18, 30, tzinfo=tz(timedelta(hours=7)))]),
    ]
    with connection.cursor() as cursor:
        for db_type, values in cases:
            cursor.execute(f"SELECT %s::{db_type}[]", [array_literal(values)])
            assert cursor.fetchone()[0] == values, db_type
        # Django reads jsonb back as text
        cursor.execute("SELECT %s::jsonb[]", [array_literal([{"a": 'b"'}, ["x"], None])])
        assert cursor.fetchone()[0] == ['{"a": "b\\""}', '["x"]', None]
        cursor.execute("SELECT %s::text[]", [array_literal(["plain", "words"])])
        assert cursor.fetchone()[0] == ["plain", "words"]


def test_bulk_insert_gives_every_row_the_shared_values_unless_it_has_its_own(
    customer: User, place
) -> None:  # noqa: ANN001
    order = place()
    now = timezone.now()
    same = {"order_id": order.pk, "field": "status", "old_value": "", "message": "shared"}

    bulk_insert_values(
        OrderEvent,
        [{"new_value": "Partial"}, {"new_value": "Completed", "message": "own"}],
        same={**same, "actor": "poller", "created_at": now, "period": current_period()},
    )

    events = OrderEvent.objects.filter(order=order, actor="poller").order_by("new_value")
    assert list(events.values_list("new_value", "message", "created_at")) == [
        ("Completed", "own", now),
        ("Partial", "shared", now),
    ]


def test_bulk_insert_instances_writes_them_as_bulk_create_would_and_gives_each_its_key(
    provider: Provider,
) -> None:
    from providers.models import Category, Service

    category = Category.objects.create(name='Likes "quoted" {braces}')
    before = timezone.now()
    services = [
        Service(
            provider=provider,
            category=category,
            upstream_id=str(100 + n),
            name=f"Service {n}" if n else 'with "quotes", commas and \\ backslash',
            type="Default",
            upstream_rate=Decimal("0.1234") * (n + 1),
            rate=Decimal("0.5"),
            min=10,
            max=1000 + n,
        )
        for n in range(5)
    ]

    bulk_insert_instances(services, chunk=2)

    assert all(service.pk and not service._state.adding for service in services)
    for service in services:
        stored = Service.objects.get(pk=service.pk)
        assert (stored.upstream_id, stored.name, stored.upstream_rate, stored.max) == (
            service.upstream_id,
            service.name,
            service.upstream_rate,
            service.max,
        )
        assert stored.category_id == category.pk and stored.is_available
        assert stored.created_at >= before and stored.updated_at >= before
    # the sequence moved past them: the ORM's next insert takes a new key
    later = Service.objects.create(
        provider=provider,
        category=category,
        upstream_id="later",
        name="l",
        type="Default",
        upstream_rate=Decimal(1),
        rate=Decimal(1),
        min=1,
        max=2,
    )
    assert later.pk > max(service.pk for service in services)


def test_bulk_add_adds_each_rows_amount_and_leaves_the_others(customer: User, place) -> None:  # noqa: ANN001
    first, second, third = place(), place(), place()
    Order.objects.update(remains=10)

    bulk_add_values(Order, {first.pk: {"remains": 5}, second.pk: {"remains": None}})

    remains = dict(Order.objects.values_list("pk", "remains"))
    assert (remains[first.pk], remains[second.pk], remains[third.pk]) == (15, 10, 10)


def test_a_computed_column_that_is_also_given_reads_the_given_value(customer: User, place) -> None:  # noqa: ANN001
    order = place()
    row = {"order_id": order.pk, "field": "status", "old_value": "", "new_value": "Partial"}

    bulk_insert_values(
        OrderEvent,
        [{**row, "message": "given"}],
        same={"actor": "poller", "created_at": timezone.now(), "period": current_period()},
        computed={"message": (f'upper({GIVEN}."message") || %s', ["!"])},
    )

    assert OrderEvent.objects.get(order=order, new_value="Partial").message == "GIVEN!"


def test_a_column_is_constant_only_when_every_row_would_print_the_same_text() -> None:
    amount = Decimal("2.5")
    # equal values of types that always print alike; empty JSON of one kind
    assert is_constant(["Pending", "Pending", "Pending"])
    assert is_constant([None, None])
    assert is_constant([{}, {}, {}])
    # equal values of other types only when they are one and the same object
    assert is_constant([amount, amount])
    assert not is_constant([Decimal("2.5"), Decimal("2.50")])
    assert not is_constant([{"a": 1}, {"a": 1}])
    # equal across types (1 == True) or different
    assert not is_constant([1, True])
    assert not is_constant([{}, []])
    assert not is_constant(["Pending", "Completed"])
