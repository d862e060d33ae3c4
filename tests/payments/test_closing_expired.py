"""Pending deposits their gateway can no longer report paid (the "expired" webhook lost) are
closed as never paid: only past their own gateway's bound, only while still pending, and a
payment that comes anyway waits for an admin like any rejected deposit's; credited after its
month was archived, it is booked in the month the money arrived, once."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from accounts.models import BalanceTransaction, User
from accounts.selectors import ledger_mismatches
from core.db.partitions import current_period, next_period, partitions_prepare
from core.db.partitions import periods as period_registry
from core.errors import InvalidTransition
from orders.partitions import partitions_prepare_all
from panel.archive import month_archive
from payments.gateways.closing import deposits_close_expired
from payments.models import Deposit, GatewaySettings
from payments.services import deposit_assign
from tests.partitions import month_start
from tests.payments.senders import post_stripe
from tests.payments.test_card_and_crypto import _session_event, _start_stripe

pytestmark = pytest.mark.django_db
Status = Deposit.Status


def aged_deposit(
    user: User, gateway: str, status: str, *, age: timedelta, **fields: object
) -> Deposit:
    """A deposit of 25 USD started `age` ago."""
    deposit = Deposit.objects.create(
        user=user,
        gateway=gateway,
        external_id=f"{gateway}-{Deposit.objects.count()}",
        amount=Decimal("25"),
        currency="USD",
        rate=Decimal(1),
        status=status,
        **fields,
    )
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - age)
    return deposit


def test_only_pending_deposits_past_their_gateways_bound_are_closed(customer: User) -> None:
    # given deposits of every kind, either side of their gateway's bound
    day = timedelta(days=1)
    deposits = {
        "stripe past": aged_deposit(customer, "stripe", Status.PENDING, age=31 * day),
        "stripe within": aged_deposit(customer, "stripe", Status.PENDING, age=29 * day),
        "cryptomus past": aged_deposit(customer, "cryptomus", Status.PENDING, age=8 * day),
        "cryptomus within": aged_deposit(customer, "cryptomus", Status.PENDING, age=6 * day),
        # a bank transfer has no such bound: only an admin closes it
        "sepay old": aged_deposit(customer, "sepay", Status.PENDING, age=400 * day),
        # money arrived: an admin decides
        "stripe review": aged_deposit(customer, "stripe", Status.REVIEW, age=400 * day),
    }

    # when
    closed = deposits_close_expired(deposits=Deposit.objects.all())

    # then
    assert closed == 2
    statuses = {name: Deposit.objects.get(pk=d.pk).status for name, d in deposits.items()}
    assert statuses == {
        "stripe past": Status.REJECTED,
        "stripe within": Status.PENDING,
        "cryptomus past": Status.REJECTED,
        "cryptomus within": Status.PENDING,
        "sepay old": Status.PENDING,
        "stripe review": Status.REVIEW,
    }
    rejected = Deposit.objects.get(pk=deposits["stripe past"].pk)
    assert rejected.reason_text == "never paid: its gateway no longer takes the payment"
    with translation.override("vi"):
        assert rejected.reason_text == (
            "quá hạn thanh toán: cổng thanh toán không còn nhận khoản này nữa"
        )
    assert deposits_close_expired(deposits=Deposit.objects.all()) == 0
    assert not BalanceTransaction.objects.filter(deposit_id__isnull=False).exists()


def test_a_payment_of_a_deposit_closed_as_expired_waits_for_an_admin(
    client: Client, customer: User, stub: str, stripe_gateway: GatewaySettings
) -> None:
    # given a Stripe deposit closed as expired, its "expired" webhook never received
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    balance = customer.balance
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert deposits_close_expired(deposits=Deposit.objects.filter(pk=deposit.pk)) == 1

    # when Stripe reports it paid after all
    response = post_stripe(Client(), _session_event(deposit))

    # then it waits for an admin's decision, nothing credited
    assert response.status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE
    assert not BalanceTransaction.objects.filter(deposit_id=deposit.pk).exists()
    customer.refresh_from_db()
    assert customer.balance == balance


# --- Paid after its month was archived --------------------------------------------------------


def _ledger_rows(deposit: Deposit) -> list[tuple[Decimal, str, int, str]]:
    """The deposit's ledger rows: amount, kind, month and the partition holding each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT amount, kind, period, tableoid::regclass::text "
            "FROM accounts_balancetransaction WHERE deposit_id = %s ORDER BY id",
            [deposit.pk],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _default_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_balancetransaction_default")
        return int(cursor.fetchone()[0])


@pytest.fixture
def archived_then_paid(
    client: Client,
    customer: User,
    stub: str,
    stripe_gateway: GatewaySettings,
    fresh_period_registry: None,
    tmp_path: Path,
) -> Deposit:
    """A Stripe deposit of the month after this one, abandoned and closed as expired by the
    archive of its month, then reported paid: paid after rejection, waiting for an admin."""
    period = next_period(current_period())
    partitions_prepare(
        by_id=[], by_period=[], anchors=[Deposit._meta.db_table], now=month_start(period)
    )
    period_registry._cache.clear()
    deposit = _start_stripe(client, customer, stub, stripe_gateway)
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert month_archive(period=period, directory=tmp_path).deposits_closed == 1
    assert post_stripe(Client(), _session_event(deposit)).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Status.PAID_LATE
    return deposit


@pytest.mark.usefixtures("fresh_period_registry")
def test_a_deposit_paid_after_its_month_was_archived_is_credited_once_in_the_current_month(
    archived_then_paid: Deposit, customer: User, staff: User, client: Client
) -> None:
    deposit = archived_then_paid
    balance = User.objects.get(pk=customer.pk).balance
    month = current_period()

    # when an admin credits it
    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)

    # then the money is booked in the month it arrived, in that month's partition, not DEFAULT
    assert Deposit.objects.get(pk=deposit.pk).status == Status.CREDITED
    assert _ledger_rows(deposit) == [
        (Decimal("25"), "deposit", month, f"accounts_balancetransaction_p{month}")
    ]
    assert _default_rows() == 0
    assert User.objects.get(pk=customer.pk).balance == balance + Decimal("25")
    assert ledger_mismatches() == []

    # when, months later, Stripe replays its report and an admin tries to credit it again
    later = next_period(month, 2)
    with time_machine.travel(month_start(later) + timedelta(days=3), tick=False):
        prepared = partitions_prepare_all()
        assert post_stripe(Client(), _session_event(deposit)).status_code == 200
        with pytest.raises(InvalidTransition, match=f"Deposit #{deposit.pk} is Credited"):
            deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)

    # then the money moved once, and beat has no DEFAULT rows to alert about
    assert "accounts_balancetransaction" not in prepared.default_rows
    assert _ledger_rows(deposit) == [
        (Decimal("25"), "deposit", month, f"accounts_balancetransaction_p{month}")
    ]
    assert User.objects.get(pk=customer.pk).balance == balance + Decimal("25")
    assert ledger_mismatches() == []


@pytest.mark.usefixtures("fresh_period_registry")
def test_a_credited_deposit_of_an_archived_month_set_back_by_hand_is_not_credited_again(
    archived_then_paid: Deposit, customer: User, staff: User
) -> None:
    # given the late deposit credited, and its status set back to paid after rejection by hand
    deposit = archived_then_paid
    deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)
    balance = User.objects.get(pk=customer.pk).balance
    later = next_period(current_period())
    with time_machine.travel(month_start(later) + timedelta(days=3), tick=False):
        partitions_prepare_all()
        Deposit.objects.filter(pk=deposit.pk).update(status=Status.PAID_LATE)

        # when an admin credits it again, next month (another key of the ledger)
        with pytest.raises(InvalidTransition, match=f"Deposit #{deposit.pk} was already credited"):
            deposit_assign(deposit_id=deposit.pk, user_id=customer.pk, admin=staff)

    # then the ledger itself kept it to one credit
    assert len(_ledger_rows(deposit)) == 1
    assert User.objects.get(pk=customer.pk).balance == balance
    assert ledger_mismatches() == []
