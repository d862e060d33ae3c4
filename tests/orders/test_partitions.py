"""Orders, their events and the ledger partitioned by month (docs/scaling.md, "Monthly
partitions"): each row in its month's partition, the months made ahead by beat, the unique keys
whole across months, a DEFAULT partition as the safety net, and the hot queries on indexes of
the partitions they concern."""

import importlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.selectors import ledger_for_user
from accounts.services import balance_credit
from core.db.leases import Sweep
from core.db.partitions import (
    current_period,
    next_period,
    partitions_prepare,
    period_of,
    period_of_subject_columns_sql,
    period_of_subject_sql,
)
from core.db.partitions import periods as period_registry
from notifications.models import Kind, Notification
from orders.lifecycle.events import Actor, event_link, event_record
from orders.models import (
    DispatchState,
    Order,
    OrderClientRef,
    OrderEvent,
    OrderOpenLink,
    OrderStatus,
    OrderUpstreamId,
    ProductOrder,
    Refill,
)
from orders.partitions import SUBJECTS, partitions_prepare_all
from orders.selectors import order_rows_by_id, orders_for_user
from orders.services.polling import CHUNK_SIZE, ORDERS
from orders.services.polling.engine import _due_rows
from panel.dashboard.rollup import day_start, days_changed_since, placed_in_days
from tests.partitions import first_order_id, month_start

pytestmark = pytest.mark.usefixtures("fresh_period_registry")


def _partition(table_name: str, **where: int) -> set[str]:
    condition = " AND ".join(f'"{column}" = %s' for column in where)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT DISTINCT tableoid::regclass::text FROM "{table_name}" WHERE {condition}',  # noqa: S608 - test names
            list(where.values()),
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_an_orders_events_and_ledger_rows_live_in_its_months_partition(
    place: Callable[..., Order],
) -> None:
    order = place()
    period = period_of("orders_order", order.pk)

    assert period == current_period()
    assert _partition("orders_order", id=order.pk) == {f"orders_order_p{period}"}
    assert _partition("orders_orderevent", order_id=order.pk) == {f"orders_orderevent_p{period}"}
    assert _partition("accounts_balancetransaction", order_id=order.pk) == {
        f"accounts_balancetransaction_p{period}"
    }


@pytest.mark.django_db
def test_a_new_month_takes_ids_from_its_range_and_an_old_orders_refund_stays_in_its_month(
    place: Callable[..., Order], customer: User
) -> None:
    # given an order of this month
    old = place()
    coming = next_period(current_period())
    # when beat runs at the next month's start
    with time_machine.travel(month_start(coming), tick=False):
        prepared = partitions_prepare_all()
        new = place()
        refund = balance_credit(
            user_id=customer.pk, amount=Decimal("1"), kind="refund", order_id=old.pk
        )
    # then the new month's orders take its ids, and the old order's rows stay in its month
    assert prepared.sequence_moved_to == first_order_id(coming)
    assert new.pk >= first_order_id(coming)
    assert _partition("orders_orderevent", order_id=new.pk) == {f"orders_orderevent_p{coming}"}
    # its charge, written by the order's own statement, takes the month from the order's id
    assert _partition("accounts_balancetransaction", order_id=new.pk) == {
        f"accounts_balancetransaction_p{coming}"
    }
    assert refund.period == period_of("orders_order", old.pk) == current_period()
    # and a replay of that refund in the new month meets the same unique key
    with (
        time_machine.travel(month_start(coming), tick=False),
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        balance_credit(user_id=customer.pk, amount=Decimal("1"), kind="refund", order_id=old.pk)


@pytest.mark.django_db
def test_preparing_twice_makes_nothing_twice() -> None:
    partitions_prepare_all()

    assert partitions_prepare_all().created == []


@pytest.mark.django_db
def test_months_are_made_two_ahead_with_a_range_three_times_the_largest_month() -> None:
    far = next_period(current_period(), 2)
    with time_machine.travel(month_start(far), tick=False):
        created = partitions_prepare_all().created

    assert f"orders_order_p{next_period(far, 2)}" in created
    assert f"accounts_balancetransaction_p{next_period(far, 2)}" in created
    assert f"orders_orderevent_p{next_period(far, 1)}" in created


@pytest.mark.django_db
def test_a_row_no_month_covers_goes_to_the_default_partition_and_alerts_the_operators(
    customer: User,
) -> None:
    # given beat down for years: a month without a partition
    far = next_period(current_period(), 40)
    with time_machine.travel(month_start(far), tick=False):
        entry = balance_credit(user_id=customer.pk, amount=Decimal("5"), memo="gift")
    # then the credit is kept all the same, in the DEFAULT partition
    assert _partition("accounts_balancetransaction", id=entry.pk) == {
        "accounts_balancetransaction_default"
    }
    # when beat runs (this month's)
    assert partitions_prepare_all().default_rows == ["accounts_balancetransaction"]
    # then the operators hear of it
    assert Notification.objects.filter(kind=Kind.OPS_PARTITIONS).exists()
    # and when that month's partition is made, the row moves into it
    with time_machine.travel(month_start(far), tick=False):
        partitions_prepare(by_id=[], by_period=["accounts_balancetransaction"], anchors=[])
    assert _partition("accounts_balancetransaction", id=entry.pk) == {
        f"accounts_balancetransaction_p{far}"
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "key",
    [
        {"client_ref": "same-ref"},
        {"upstream_id": "same-upstream-id"},
        {"link_key": "same-link", "status": OrderStatus.PENDING},
    ],
    ids=["client_ref", "upstream_id", "open_link"],
)
def test_two_orders_of_different_months_racing_for_one_key_cannot_both_hold_it(
    place: Callable[..., Order], key: dict[str, str]
) -> None:
    # given two orders of the same user, service and provider, in two months' partitions
    template = place()
    fields = {
        field.attname: getattr(template, field.attname)
        for field in Order._meta.concrete_fields
        if not field.primary_key and field.attname not in {"link_key", "client_ref"}
    }
    month = current_period()
    ids = [first_order_id(month) + 800_000, first_order_id(next_period(month)) + 800_000]
    barrier = threading.Barrier(2)

    def insert(order_id: int) -> str:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                Order.objects.bulk_create([Order(**{**fields, **key}, id=order_id)])
                # Held open a moment: the other insert must wait for this one, then fail.
                time.sleep(0.2)
            return "placed"
        except IntegrityError:
            return "refused"
        finally:
            connection.close()

    # when both insert at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(insert, ids))

    # then one holds the key and the other was refused
    assert outcomes == ["placed", "refused"]
    assert Order.objects.filter(pk__in=ids).count() == 1


# --- The hot queries stay on indexes of the partitions they concern ---------------------------


def _plan(queryset: object) -> str:
    """EXPLAIN of the queryset with sequential scans priced out: on a test's few rows the
    planner would rightly prefer them, so what is asked is whether an index serves the query
    in every partition it reads."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()  # type: ignore[attr-defined]


def _partitions_read(plan: str, table_name: str) -> set[str]:
    pattern = re.compile(rf"^{table_name}_(p\d+|legacy|default)$")
    return {word for line in plan.splitlines() for word in line.split() if pattern.match(word)}


@pytest.fixture
def three_months(place: Callable[..., Order], customer: User) -> dict[int, list[Order]]:
    """Live orders in this month's range and the two next ones, each with an event and a
    refund in its month's partitions."""
    template = place()
    fields = [
        field.attname
        for field in Order._meta.concrete_fields
        if not field.primary_key and field.attname != "link_key"
    ]
    months: dict[int, list[Order]] = {}
    for step in range(3):
        month = next_period(current_period(), step)
        months[month] = Order.objects.bulk_create(
            Order(
                **{name: getattr(template, name) for name in fields},
                id=first_order_id(month) + 900_000 + n,
                link_key=None,
            )
            for n in range(3)
        )
    rows = [order for orders in months.values() for order in orders]
    Order.objects.filter(pk__in=[order.pk for order in rows]).update(
        dispatch_state=DispatchState.SENT,
        next_poll_at=timezone.now() - timedelta(minutes=1),
        status=OrderStatus.IN_PROGRESS,
    )
    for order in rows:
        event_record(order, field="note", actor=Actor.ADMIN)
        balance_credit(user_id=customer.pk, amount=Decimal("1"), kind="refund", order_id=order.pk)
    return months


@pytest.mark.django_db
def test_the_poll_claim_reads_the_due_index_of_each_partition(
    three_months: dict[int, list[Order]],
) -> None:
    order = next(iter(three_months.values()))[0]
    now = timezone.now()
    # as a round's sweep claims, and as a webhook's hint claims named rows
    sweep = Sweep(scope=order.provider_id, at="next_poll_at")
    due = _due_rows(ORDERS, order.provider_id, now, CHUNK_SIZE, sweep=sweep)
    named = _due_rows(ORDERS, order.provider_id, now, CHUNK_SIZE, sweep=None, upstream_ids=["1"])
    assert "Seq Scan on orders_order" not in _plan(named)

    plan = _plan(due)

    # every partition on its due index (provider, next poll time, id), the sweep starting past
    # the live leases' rows as that index's bound, not as a filter of the rows it walks
    assert "Seq Scan on orders_order" not in plan
    scans = re.findall(r"Index Scan using (\S+) on (orders_order_\w+)", plan)
    assert len(scans) >= 4
    assert all(index.endswith("provider_id_next_poll_at_id_idx") for index, _ in scans)
    assert plan.count("Index Cond: ((provider_id = ") == len(scans)
    assert plan.count("AND (ROW(next_poll_at, id) > ROW(") == len(scans)


@pytest.mark.django_db
def test_the_status_read_reads_only_the_partitions_of_the_ids_asked(
    three_months: dict[int, list[Order]], customer: User
) -> None:
    month, orders = next(iter(three_months.items()))
    ids = [order.pk for order in orders]
    assert set(order_rows_by_id(user=customer, ids=ids)) == set(ids)
    query = Order.objects.filter(user=customer, pk__in=ids).values("id", "status")

    plan = _plan(query)

    assert "Seq Scan" not in plan
    assert _partitions_read(plan, "orders_order") == {f"orders_order_p{month}"}


@pytest.mark.django_db
def test_a_customers_order_list_and_ledger_page_read_indexes_only(
    three_months: dict[int, list[Order]], customer: User
) -> None:
    orders_plan = _plan(orders_for_user(user=customer)[:50])
    ledger_plan = _plan(ledger_for_user(user=customer)[:50])

    assert "Seq Scan" not in orders_plan
    assert "order_user_recent" in orders_plan
    # A status tab: the partial index of the statuses other than Completed, whose tab (most of
    # a customer's orders) walks the recent list.
    for status in (OrderStatus.IN_PROGRESS, OrderStatus.PENDING, OrderStatus.PARTIAL):
        tab_plan = _plan(orders_for_user(user=customer, status=status)[:50])
        assert "Seq Scan" not in tab_plan
        assert "user_id_status_id_idx" in tab_plan  # each partition's part of it
    completed_plan = _plan(orders_for_user(user=customer, status=OrderStatus.COMPLETED)[:50])
    assert "Seq Scan" not in completed_plan
    assert "user_id_status_id_idx" not in completed_plan
    assert "Seq Scan" not in ledger_plan
    assert "ledger_user_recent" in ledger_plan
    assert len(_partitions_read(ledger_plan, "accounts_balancetransaction")) >= 3


@pytest.mark.django_db
def test_the_rollups_reads_of_changed_and_placed_orders_use_the_brin_indexes(
    three_months: dict[int, list[Order]],
) -> None:
    today = timezone.localdate()
    changed = _plan(days_changed_since(Order, timezone.now() - timedelta(minutes=10)))
    placed = _plan(placed_in_days(Order, today, today).values("day").annotate(n=Count("id")))
    # Without the rollup's join to the customers (a test's one customer is read first).
    in_range = Order.objects.filter(
        created_at__gte=day_start(today), created_at__lt=day_start(today + timedelta(days=1))
    )

    assert "Seq Scan on orders_order" not in changed
    assert "updated_at_idx" in changed  # each partition's part of order_updated_brin
    assert len(_partitions_read(changed, "orders_order")) >= 3
    assert "Seq Scan on orders_order" not in placed
    assert "created_at_idx" in _plan(in_range.values("status").annotate(n=Count("id")))


@pytest.mark.django_db
def test_the_admin_order_list_filtered_by_date_or_provider_stays_on_indexes(
    three_months: dict[int, list[Order]],
) -> None:
    order = next(iter(three_months.values()))[0]
    since = timezone.now() - timedelta(days=7)
    # The admin's list (newest first, a page of 100) with its date and provider filters.
    by_date = Order.objects.filter(created_at__gte=since).order_by("-id")[:100]
    by_provider = Order.objects.filter(provider_id=order.provider_id).order_by("-id")[:100]

    assert "Seq Scan on orders_order" not in _plan(by_date)
    assert "Seq Scan on orders_order" not in _plan(by_provider)


@pytest.mark.django_db
def test_the_history_of_an_order_reads_its_months_partition(
    three_months: dict[int, list[Order]],
) -> None:
    month, orders = list(three_months.items())[1]
    events = OrderEvent.objects.filter(
        order_id=orders[0].pk, period=period_of("orders_order", orders[0].pk)
    )

    plan = _plan(events)

    assert _partitions_read(plan, "orders_orderevent") == {f"orders_orderevent_p{month}"}


def test_the_open_link_trigger_knows_the_same_open_statuses_as_the_model(db: None) -> None:
    """The trigger keeping one open order per link names the open statuses in SQL, where no
    migration check sees a change to OrderStatus.opens()."""
    for name in ("0014_orders_partitioned", "0017_order_keys_update_narrow"):
        migration = importlib.import_module(f"orders.migrations.{name}")

        assert set(re.findall(r"'([^']+)'", migration.OPEN)) == set(OrderStatus.opens())


@pytest.mark.django_db
def test_the_key_tables_follow_every_update_that_moves_a_key(
    place: Callable[..., Order],
) -> None:
    """The update trigger runs only when a key moves (not on every status change): each move
    still reaches the key tables."""
    order = place()
    orders = Order.objects.filter(pk=order.pk)
    open_links = OrderOpenLink.objects.filter(order_id=order.pk)
    assert order.link_key and open_links.exists()

    orders.update(status=OrderStatus.IN_PROGRESS)  # from one open status to another
    assert open_links.exists()
    orders.update(client_ref="ref-1", provider_id=order.provider_id, upstream_id="77")
    assert OrderClientRef.objects.filter(order_id=order.pk, client_ref="ref-1").exists()
    assert OrderUpstreamId.objects.filter(order_id=order.pk, upstream_id="77").exists()
    orders.update(upstream_id="78")
    assert list(
        OrderUpstreamId.objects.filter(order_id=order.pk).values_list("upstream_id", flat=True)
    ) == ["78"]
    orders.update(status=OrderStatus.COMPLETED)
    assert not open_links.exists()
    orders.update(status=OrderStatus.PENDING, link_key=None)  # reopened without a key
    assert not open_links.exists()
    orders.update(link_key=order.link_key)
    assert open_links.exists()
    orders.update(client_ref=None)
    assert not OrderClientRef.objects.filter(order_id=order.pk).exists()


@pytest.mark.django_db
def test_every_subject_a_month_follows_is_registered_under_the_column_that_names_it() -> None:
    # given: the tables whose months are recorded, and the columns a ledger row or an event
    # names its subject with
    partitions_prepare_all()
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT table_name FROM panel_period_start")
        recorded = {row[0] for row in cursor.fetchall()}
    ledger_columns = {
        field.attname
        for field in BalanceTransaction._meta.concrete_fields
        if field.attname.endswith("_id") and not field.is_relation
    }
    event_columns = {event_link(model) for model in (Order, ProductOrder, Refill)}

    # then
    registered = {column: model._meta.db_table for column, model in SUBJECTS.items()}
    assert period_registry._subjects == registered
    assert set(registered.values()) == recorded
    assert set(registered) == ledger_columns | event_columns


@pytest.mark.django_db
def test_a_subject_column_nobody_registered_fails_loudly() -> None:
    with pytest.raises(LookupError, match="coupon_id"):
        period_of_subject_sql(order_id=None, coupon_id=1)
    with pytest.raises(LookupError, match="coupon_id"):
        period_of_subject_columns_sql(["order_id", "coupon_id"], row="given")


def _months_marked(period: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM panel_period_start WHERE period = %s", [period])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_migrate_marks_this_months_subjects_and_flush_does_not(
    fresh_period_registry: None,
) -> None:
    """A new install's product orders, refills and deposits have their month from `migrate`
    on, not from beat's first hourly run an hour after it starts."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db.models.signals import post_migrate

    anchored = {model._meta.db_table for model in SUBJECTS.values() if model is not Order}
    period = current_period()
    # given a database whose months were never prepared for them
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM panel_period_start WHERE table_name = ANY(%s)", [list(anchored)]
        )
    # when flush's signal comes (no migration plan), nothing is marked
    orders_app = apps.get_app_config("orders")
    post_migrate.send(sender=orders_app, app_config=orders_app, using="default", verbosity=0)
    assert not anchored & _months_marked(period)

    # when migrate runs, with nothing left to migrate
    call_command("migrate", verbosity=0)

    # then each is marked in this month
    assert anchored <= _months_marked(period)


@pytest.mark.django_db
def test_a_month_in_which_a_subject_took_no_id_is_still_recorded_and_its_rows_are_its_own(
    fresh_period_registry: None,
) -> None:
    """A panel that placed no refill in a month: the next month's first refill is the next
    month's, not the last recorded month's (which may be archived by then)."""
    this = current_period()
    later, after = next_period(this), next_period(this, 2)
    # given this month marked, and no refill made since
    partitions_prepare(by_id=[], by_period=[], anchors=["orders_refill"], now=month_start(this))
    # when the next two months are marked with no refill between
    for period in (later, after):
        partitions_prepare(
            by_id=[], by_period=[], anchors=["orders_refill"], now=month_start(period)
        )
    period_registry._cache.clear()

    # then each month starts on its own id, and the next refill's id is the last month's
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT period, first_id FROM panel_period_start WHERE table_name = 'orders_refill' "
            "AND period >= %s ORDER BY first_id",
            [this],
        )
        firsts = cursor.fetchall()
    assert [period for period, _ in firsts] == [this, later, after]
    assert len({first for _, first in firsts}) == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('orders_refill', 'id'))")
        next_refill_id = cursor.fetchone()[0]
    assert period_of("orders_refill", next_refill_id) == after
