"""Pending deposits their gateway can no longer report paid (the "expired" webhook lost) are
closed as never paid: only past their own gateway's bound, only while still pending, and a
payment that comes anyway waits for an admin like any rejected deposit's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.models import BalanceTransaction, User
from payments.gateways.closing import deposits_close_expired
from payments.models import Deposit, GatewaySettings
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
