"""The ledger's period (docs/scaling.md, "Idempotency keys across months"): never defaulted, read
by the database from the months' registry, so a replayed credit meets the key of its first
write in any later month, whatever the writing process's clock says."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.services import Credit, balance_credit, balance_credit_many
from core.db.bulk import bulk_insert_values
from core.db.ledger import ledger_move
from core.db.partitions import (
    PeriodMissing,
    current_period,
    next_period,
    period_of,
    period_of_subject_columns_sql,
    period_of_subject_sql,
)
from orders.partitions import SUBJECTS, partitions_prepare_all
from tests.partitions import month_start

Kind = BalanceTransaction.Kind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_period_registry")]


def _handed_out(column: str) -> int:
    """A new id of the subject table named by `column`, as its next row would take."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [SUBJECTS[column]._meta.db_table]
        )
        return int(cursor.fetchone()[0])


def _balance(user: User) -> Decimal:
    user.refresh_from_db(fields=["balance"])
    return user.balance


def _rows(**subject: int) -> list[tuple[Decimal, str, int, str]]:
    """The ledger rows of a subject: amount, kind, period and the partition holding each."""
    return [
        (row.amount, row.kind, row.period, _partition(row.pk))
        for row in BalanceTransaction.objects.filter(**subject).order_by("id")
    ]


def _key_taken(column: str, subject_id: int, kind: str, period: int) -> str:
    """The unique violation's detail for the ledger key of a subject (a partition's own index)."""
    return rf"\({column}, kind, period\)=\({subject_id}, {kind}, {period}\) already exists"


def _replay_deposit(customer: User, deposit_id: int, amount: Decimal, *, first_month: int) -> None:
    """Credit the deposit again: refused by the ledger key its first credit holds, of
    `first_month`, and nothing written (the test checks the balance)."""
    taken = _key_taken("deposit_id", deposit_id, Kind.DEPOSIT, first_month)
    with pytest.raises(IntegrityError, match=taken), transaction.atomic():
        balance_credit(user_id=customer.pk, amount=amount, kind=Kind.DEPOSIT, deposit_id=deposit_id)


def _partition(entry_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM accounts_balancetransaction WHERE id = %s",
            [entry_id],
        )
        return str(cursor.fetchone()[0])


# --- The database's reading of the registry ---------------------------------------------------


def test_the_database_reads_each_ids_month_as_period_of_does_at_every_edge() -> None:
    # given the months of orders and deposits recorded, this month's and the two next ones'
    partitions_prepare_all()
    _handed_out("deposit_id")
    for step in (1, 2):
        partitions_prepare_all(now=month_start(next_period(current_period(), step)))
        _handed_out("deposit_id")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, first_id FROM panel_period_start "
            "WHERE table_name IN ('orders_order', 'payments_deposit')"
        )
        firsts = cursor.fetchall()
    # each first id, the ids either side of it, and an id below every month (month 0)
    edges = {(table, first + step) for table, first in firsts for step in (-1, 0, 1)}
    ids = sorted({*edges, ("orders_order", 0), ("payments_deposit", 0)})
    column = {"orders_order": "order_id", "payments_deposit": "deposit_id"}

    # when the database reads them, one row at a time and all in one statement
    def one(table: str, row_id: int) -> int:
        sql, params = period_of_subject_sql(**{column[table]: row_id})
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {sql}", params)  # noqa: S608 - the registry's own SQL
            return int(cursor.fetchone()[0])

    sql, params = period_of_subject_columns_sql(["order_id", "deposit_id"], row="r")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM unnest(%s::bigint[], %s::bigint[]) AS r(order_id, deposit_id)",  # noqa: S608 - the registry's own SQL
            [
                *params,
                [row_id if table == "orders_order" else None for table, row_id in ids],
                [row_id if table == "payments_deposit" else None for table, row_id in ids],
            ],
        )
        many = [int(row[0]) for row in cursor.fetchall()]

    # then both give what period_of gives, to the id
    expected = [period_of(table, row_id) for table, row_id in ids]
    assert [one(table, row_id) for table, row_id in ids] == expected
    assert many == expected
    assert {0, current_period(), next_period(current_period(), 2)} <= set(expected)


# --- A writer that forgets the period --------------------------------------------------------


def test_a_ledger_row_saved_without_its_period_fails_and_writes_nothing(customer: User) -> None:
    rows_before = BalanceTransaction.objects.count()
    forgetful = {"amount": Decimal("5.25"), "kind": Kind.ADJUSTMENT, "memo": "no period"}

    # Raised within save(), which marks the transaction as failed, as a database error does.
    with (
        pytest.raises(PeriodMissing, match="BalanceTransaction.period not given"),
        transaction.atomic(),
    ):
        BalanceTransaction.objects.create(
            user=customer, balance_after=Decimal("105.25"), **forgetful
        )
    with pytest.raises(PeriodMissing), transaction.atomic():
        BalanceTransaction.objects.bulk_create(
            [BalanceTransaction(user=customer, balance_after=Decimal("105.25"), **forgetful)]
        )
    # The balance and its ledger row in one statement: refused before it is sent.
    with pytest.raises(PeriodMissing):
        ledger_move(
            accounts=User,
            account_id=customer.pk,
            entry=BalanceTransaction(user=customer, **forgetful),
        )

    assert _balance(customer) == Decimal("100.00")
    assert BalanceTransaction.objects.count() == rows_before


def test_an_insert_by_hand_without_the_period_breaks_not_null_instead_of_taking_this_month(
    customer: User,
) -> None:
    row = {
        "user_id": customer.pk,
        "amount": Decimal("5.25"),
        "kind": Kind.ADJUSTMENT,
        "balance_after": Decimal("105.25"),
        "memo": "no period",
        "created_at": timezone.now(),
    }
    rows_before = BalanceTransaction.objects.count()

    with pytest.raises(IntegrityError, match='"period"'), transaction.atomic():
        bulk_insert_values(BalanceTransaction, [row])

    assert BalanceTransaction.objects.count() == rows_before
    # No default left on the table or on any of its partitions (ALTER TABLE recursed).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid "
            "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE a.attname = 'period' AND c.relname LIKE 'accounts\\_balancetransaction%%'"
        )
        assert cursor.fetchall() == []


# --- A replay in a later month ---------------------------------------------------------------


def test_a_deposit_credited_again_in_a_later_month_is_refused_by_its_key(customer: User) -> None:
    # given a deposit of this month, credited
    month = current_period()
    partitions_prepare_all()
    deposit_id = _handed_out("deposit_id")
    balance_credit(
        user_id=customer.pk, amount=Decimal("250.50"), kind=Kind.DEPOSIT, deposit_id=deposit_id
    )
    # when its credit is replayed next month, after beat marked the month
    coming = next_period(month)
    with time_machine.travel(month_start(coming) + timedelta(days=3), tick=False):
        partitions_prepare_all()
        _replay_deposit(customer, deposit_id, Decimal("250.50"), first_month=month)

    # then the money moved once, in the deposit's month
    assert _balance(customer) == Decimal("350.50")
    assert _rows(deposit_id=deposit_id) == [
        (Decimal("250.50"), Kind.DEPOSIT, month, f"accounts_balancetransaction_p{month}")
    ]


@pytest.mark.parametrize("subject", ["order_id", "product_order_id", "refill_id"])
def test_a_polls_refund_replayed_in_a_later_month_is_refused_by_its_key(
    customer: User, subject: str
) -> None:
    # given a refund of this month's order, product order or refill, credited by a poll
    month = current_period()
    partitions_prepare_all()
    subject_id = _handed_out(subject)
    refund = Credit(
        user_id=customer.pk,
        amount=Decimal("12.345678"),
        kind=Kind.REFUND,
        memo="refund",
        **{subject: subject_id},
    )
    balance_credit_many(credits=[refund])
    # when a later month's poll credits it again, with another customer's refund in the batch
    coming = next_period(month)
    with time_machine.travel(month_start(coming) + timedelta(days=3), tick=False):
        partitions_prepare_all()
        other = Credit(
            user_id=customer.pk,
            amount=Decimal("1.000001"),
            kind=Kind.REFUND,
            memo="refund",
            **{subject: _handed_out(subject)},
        )
        taken = _key_taken(subject, subject_id, Kind.REFUND, month)
        with pytest.raises(IntegrityError, match=taken), transaction.atomic():
            balance_credit_many(credits=[other, refund])

    # then the whole batch rolled back, and the refund moved money once, in its subject's month
    assert _balance(customer) == Decimal("112.345678")
    assert _rows(**{subject: subject_id}) == [
        (Decimal("12.345678"), Kind.REFUND, month, f"accounts_balancetransaction_p{month}")
    ]
    assert not BalanceTransaction.objects.filter(**{subject: getattr(other, subject)}).exists()


# --- A process whose clock is behind ----------------------------------------------------------


def test_a_process_whose_clock_is_behind_still_writes_the_subjects_true_month(
    customer: User,
) -> None:
    month = current_period()
    coming = next_period(month)
    partitions_prepare_all()
    earlier_deposit = _handed_out("deposit_id")
    _handed_out(
        "refill_id"
    )  # the month's first refill: a month no id was taken in shares its first id
    # given a process whose clock is an hour behind at the month's turn: it read the months
    # while its clock said the month had most of an hour left, past the margin it allows
    with time_machine.travel(month_start(coming) - timedelta(hours=1), tick=False):
        assert period_of("payments_deposit", earlier_deposit) == month
        # and beat, on the right clock, has marked the new month, whose first deposits follow
        partitions_prepare_all(now=month_start(coming))
        deposit_id = _handed_out("deposit_id")
        refill_id = _handed_out("refill_id")
        # the process's own reckoning is still the old month's
        assert period_of("payments_deposit", deposit_id) == month
        # when it credits the new month's deposit, and a poll refunds the new month's refill
        entry = balance_credit(
            user_id=customer.pk, amount=Decimal("75.50"), kind=Kind.DEPOSIT, deposit_id=deposit_id
        )
        balance_credit_many(
            credits=[
                Credit(
                    user_id=customer.pk,
                    amount=Decimal("0.25"),
                    kind=Kind.REFUND,
                    refill_id=refill_id,
                ),
                # A row with no subject takes its own month, the writer's (period_own).
                Credit(user_id=customer.pk, amount=Decimal("1.75"), kind=Kind.ADJUSTMENT),
            ]
        )

    # then each row is in its subject's true month, which a replay on any clock will meet
    assert entry.period == coming
    assert _rows(deposit_id=deposit_id) == [
        (Decimal("75.50"), Kind.DEPOSIT, coming, f"accounts_balancetransaction_p{coming}")
    ]
    assert _rows(refill_id=refill_id) == [
        (Decimal("0.25"), Kind.REFUND, coming, f"accounts_balancetransaction_p{coming}")
    ]
    own = BalanceTransaction.objects.get(kind=Kind.ADJUSTMENT, user=customer)
    assert (own.amount, own.period) == (Decimal("1.75"), month)
    assert _balance(customer) == Decimal("177.50")
    _replay_deposit(customer, deposit_id, Decimal("75.50"), first_month=coming)
    assert _balance(customer) == Decimal("177.50")
