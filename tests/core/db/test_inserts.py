"""A row inserted with its event (core/db/inserts.py): which constraint names `unless_taken`
accepts, and the ledger move that rides in the same statement."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import BalanceTransaction, User
from accounts.services import balance_debit_move
from core.db.inserts import Inserted, insert_with_event, insert_with_event_and_move
from core.db.ledger import RowMove, floor_constraint
from core.db.partitions import current_period, period_of
from core.db.partitions.keys import key_is_skipped_when_taken
from orders.lifecycle.events import event_for
from orders.links import link_key
from orders.memos import ORDER_CHARGE
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


def _charge_of(order: Order) -> RowMove:
    return balance_debit_move(
        user_id=order.user_id,
        amount=order.charge,
        kind=BalanceTransaction.Kind.CHARGE,
        memo=ORDER_CHARGE(item="a service"),
        subject="order_id",
    )


def _fresh_copy_of(order: Order, link: str) -> tuple[Order, OrderEvent]:
    row, event = _copy_of(order)
    row.link, row.link_key = link, link_key(link)
    return row, event


def _short_by_a_millionth(row: Order) -> tuple[Any, Decimal]:
    """The owner of `row` (as a queryset) left a millionth short of its charge, and the balance
    the ledger says, to put back after."""
    owner = User.objects.filter(pk=row.user_id)
    balance = owner.get().balance
    owner.update(balance=row.charge - Decimal("0.000001"))
    return owner, balance


def test_the_move_rides_in_the_rows_statement_as_its_own_would_write_it(
    place: Callable[..., Order],
) -> None:
    order = place()
    row, event = _fresh_copy_of(order, "@another")
    debit = _charge_of(row)
    before = User.objects.get(pk=order.user_id).balance

    with CaptureQueriesContext(connection) as queries:
        inserted = insert_with_event_and_move(
            row=row, event=event, link="order_id", move=debit, unless_taken=ONE_OPEN_ORDER_PER_LINK
        )

    assert inserted is Inserted.PLACED and len(queries) == 1
    entry, stored = debit.entry, BalanceTransaction.objects.get(order_id=row.pk)
    assert entry.pk == stored.pk and not entry._state.adding
    # The month is the order's, as every row about it takes it; the memo names the new order.
    assert stored.period == period_of("orders_order", row.pk) == current_period()
    assert stored.period == OrderEvent.objects.get(order_id=row.pk).period
    assert (stored.memo_code, stored.memo_params) == (
        "order_charge",
        {"id": row.pk, "item": "a service"},
    )
    assert (stored.amount, stored.balance_after) == (-row.charge, before - row.charge)
    assert (entry.period, entry.memo_params, entry.balance_after, entry.order_id) == (
        stored.period,
        stored.memo_params,
        stored.balance_after,
        stored.order_id,
    )
    assert User.objects.get(pk=order.user_id).balance == before - row.charge


def test_a_refused_move_leaves_the_row_and_its_event_for_the_caller_and_moves_nothing(
    place: Callable[..., Order],
) -> None:
    order = place()
    row, event = _fresh_copy_of(order, "@another")
    owner, balance = _short_by_a_millionth(row)
    debit = _charge_of(row)

    inserted = insert_with_event_and_move(
        row=row, event=event, link="order_id", move=debit, unless_taken=ONE_OPEN_ORDER_PER_LINK
    )

    assert inserted is Inserted.REFUSED
    assert debit.entry.pk is None and not BalanceTransaction.objects.filter(order_id=row.pk)
    assert OrderEvent.objects.filter(order_id=row.pk).count() == 1
    assert owner.get().balance == row.charge - Decimal("0.000001")
    row.delete()  # what the caller does
    owner.update(balance=balance)  # as the ledger says


def test_a_taken_link_writes_nothing_and_moves_nothing(place: Callable[..., Order]) -> None:
    order = place()
    row, event = _copy_of(order)
    debit = _charge_of(row)
    charges = BalanceTransaction.objects.count()
    balance = User.objects.get(pk=order.user_id).balance

    inserted = insert_with_event_and_move(
        row=row, event=event, link="order_id", move=debit, unless_taken=ONE_OPEN_ORDER_PER_LINK
    )

    assert inserted is Inserted.TAKEN and row.pk is None and debit.entry.pk is None
    assert Order.objects.count() == 1 and BalanceTransaction.objects.count() == charges
    assert User.objects.get(pk=order.user_id).balance == balance


def test_a_move_whose_subject_names_another_table_is_refused(place: Callable[..., Order]) -> None:
    row, event = _fresh_copy_of(place(), "@another")
    debit = _charge_of(row)
    wrong = RowMove(
        accounts=debit.accounts,
        account_id=debit.account_id,
        entry=debit.entry,
        subject="product_order_id",
        id_in=debit.id_in,
    )

    with pytest.raises(ValueError, match="product_order_id"):
        insert_with_event_and_move(row=row, event=event, link="order_id", move=wrong)
    assert Order.objects.count() == 1


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


# Its own transactions: inside a test's, `atomic` is a savepoint and the setting outlives it.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("guarded", [True, False])
def test_the_rows_statement_puts_its_transactions_key_checks_on_generic_plans(
    place: Callable[..., Order], guarded: bool
) -> None:
    # given: a second order, with or without the one-open-order-per-link key
    row, event = _fresh_copy_of(place(), "@generic")
    assert _plan_cache_mode() == "auto"

    # when it is written in one statement, with its charge
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        inserted = insert_with_event_and_move(
            row=row,
            event=event,
            link="order_id",
            move=_charge_of(row),
            unless_taken=ONE_OPEN_ORDER_PER_LINK if guarded else None,
        )
        # then no statement of its own was spent, and the commit's key checks (the event's
        # against the partitioned orders among them) run on their generic plans
        assert inserted is Inserted.PLACED and len(queries) == 1
        assert _plan_cache_mode() == "force_generic_plan"
        assert not _skip_flag()

    # and the connection's next transaction plans as before
    assert _plan_cache_mode() == "auto"
    assert BalanceTransaction.objects.filter(order_id=row.pk).count() == 1


# The statement as its own transaction (`alone`): outside any atomic block, as the API's `add`
# sends it; a test's own transaction would turn every block into a savepoint.


@pytest.mark.django_db(transaction=True)
def test_alone_the_row_its_event_and_its_charge_are_committed_by_the_one_statement(
    place: Callable[..., Order],
) -> None:
    row, event = _fresh_copy_of(place(), "@alone")
    debit = _charge_of(row)
    before = User.objects.get(pk=row.user_id).balance

    with CaptureQueriesContext(connection) as queries:
        inserted = insert_with_event_and_move(
            row=row,
            event=event,
            link="order_id",
            move=debit,
            unless_taken=ONE_OPEN_ORDER_PER_LINK,
            alone=True,
        )

    assert inserted is Inserted.PLACED and len(queries) == 1
    assert connection.connection.info.transaction_status == 0  # idle: committed, nothing open
    assert OrderEvent.objects.filter(order_id=row.pk).count() == 1 and event.order_id == row.pk
    stored = BalanceTransaction.objects.get(order_id=row.pk)
    assert (stored.pk, stored.amount) == (debit.entry.pk, -row.charge)
    assert User.objects.get(pk=row.user_id).balance == before - row.charge == stored.balance_after


@pytest.mark.django_db(transaction=True)
def test_alone_a_refused_move_fails_the_statement_and_nothing_at_all_is_written(
    place: Callable[..., Order],
) -> None:
    from orders.models import OrderOpenLink

    # given a balance a millionth short of the charge
    order = place()
    row, event = _fresh_copy_of(order, "@short")
    owner, balance = _short_by_a_millionth(row)
    counts = (OrderEvent.objects.count(), BalanceTransaction.objects.count())
    debit = _charge_of(row)

    inserted = insert_with_event_and_move(
        row=row,
        event=event,
        link="order_id",
        move=debit,
        unless_taken=ONE_OPEN_ORDER_PER_LINK,
        alone=True,
    )

    # then neither the row nor its event, nor the link's hold, nor any money
    assert inserted is Inserted.REFUSED and row.pk is None and event.order_id is None
    assert debit.entry.pk is None and Order.objects.count() == 1
    assert (OrderEvent.objects.count(), BalanceTransaction.objects.count()) == counts
    assert not OrderOpenLink.objects.filter(link_key=row.link_key).exists()
    assert owner.get().balance == row.charge - Decimal("0.000001")
    owner.update(balance=balance)  # as the ledger says


@pytest.mark.django_db(transaction=True)
def test_alone_another_constraints_refusal_is_raised_not_taken_for_the_floor(
    place: Callable[..., Order],
) -> None:
    # given a second order with the first one's client_ref: the user's unique key refuses it
    order = place()
    Order.objects.filter(pk=order.pk).update(client_ref="once")
    row, event = _fresh_copy_of(order, "@again")
    row.client_ref = "once"

    with pytest.raises(IntegrityError):
        insert_with_event_and_move(
            row=row, event=event, link="order_id", move=_charge_of(row), alone=True
        )
    assert Order.objects.count() == 1 and row.pk is None


def test_alone_inside_a_transaction_is_a_mistake_that_writes_nothing(
    place: Callable[..., Order],
) -> None:
    row, event = _fresh_copy_of(place(), "@inside")
    with pytest.raises(ValueError, match="alone"):
        insert_with_event_and_move(
            row=row, event=event, link="order_id", move=_charge_of(row), alone=True
        )
    assert Order.objects.count() == 1


def test_the_floor_a_statement_leaves_to_the_database_is_the_accounts_check() -> None:
    assert floor_constraint(User) == "user_balance_not_negative"
    with pytest.raises(ValueError, match="Order has no check constraint keeping remains"):
        floor_constraint(Order, "remains")
