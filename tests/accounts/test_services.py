import contextlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import BalanceTransaction, User
from accounts.selectors import ledger_mismatches
from accounts.services import (
    Credit,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    balance_adjust,
    balance_credit,
    balance_credit_many,
    balance_debit,
    debit_refused,
    user_create_customer,
)
from core.db.pipeline import pipelined
from core.errors import InsufficientFunds, InvalidRequest
from tests.factories import UserFactory
from tests.support import unused_pk

Kind = BalanceTransaction.Kind


def test_balance_credit_writes_ledger_row_and_updates_cache(customer: User) -> None:
    row = balance_credit(user_id=customer.pk, amount=Decimal("12.345"), memo="top-up")

    customer.refresh_from_db()
    assert customer.balance == Decimal("112.345")
    assert (row.amount, row.kind, row.balance_after, row.memo) == (
        Decimal("12.345"),
        Kind.DEPOSIT,
        Decimal("112.345"),
        "top-up",
    )
    assert ledger_mismatches() == []


def test_balance_debit_rejects_insufficient_funds_and_changes_nothing(customer: User) -> None:
    rows_before = BalanceTransaction.objects.count()

    with pytest.raises(InsufficientFunds) as error:
        balance_debit(user_id=customer.pk, amount=Decimal("100.000001"))

    assert error.value.message == "Not enough funds on balance"
    customer.refresh_from_db()
    assert customer.balance == Decimal("100")
    assert BalanceTransaction.objects.count() == rows_before


def test_a_refused_debit_always_raises_what_it_was_refused_for(customer: User) -> None:
    # for want of money: InsufficientFunds, and the caller's transaction stays usable
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            balance_debit(user_id=customer.pk, amount=Decimal("100.000001"))
        balance_debit(user_id=customer.pk, amount=Decimal("40"))
    # for want of the user: User.DoesNotExist, nothing written
    rows_before = BalanceTransaction.objects.count()
    missing = unused_pk(User)
    with pytest.raises(User.DoesNotExist, match=f"No user {missing}"):
        balance_debit(user_id=missing, amount=Decimal("1"))
    # and the refusal itself, asked directly, raises rather than returns
    with pytest.raises(InsufficientFunds):
        debit_refused(user_id=customer.pk)
    with pytest.raises(User.DoesNotExist):
        debit_refused(user_id=missing)

    customer.refresh_from_db()
    assert customer.balance == Decimal("60")
    assert BalanceTransaction.objects.count() == rows_before
    assert ledger_mismatches() == []


def test_balance_debit_may_empty_the_balance_exactly(customer: User) -> None:
    row = balance_debit(user_id=customer.pk, amount=Decimal("100"))

    assert row.amount == Decimal("-100")
    assert row.balance_after == Decimal("0")


@pytest.mark.parametrize(
    "amount", [Decimal("0"), Decimal("-1"), Decimal("0.0000001"), Decimal("NaN")]
)
def test_balance_moves_reject_bad_amounts(customer: User, amount: Decimal) -> None:
    with pytest.raises(InvalidRequest):
        balance_credit(user_id=customer.pk, amount=amount)
    with pytest.raises(InvalidRequest):
        balance_debit(user_id=customer.pk, amount=amount)


def test_balance_cannot_go_negative_even_bypassing_the_service(customer: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=customer.pk).update(balance=Decimal("-1"))


def test_ledger_refuses_a_second_refund_of_one_order(customer: User) -> None:
    balance_credit(user_id=customer.pk, amount=Decimal("1"), kind=Kind.REFUND, order_id=42)

    with pytest.raises(IntegrityError), transaction.atomic():
        balance_credit(user_id=customer.pk, amount=Decimal("1"), kind=Kind.REFUND, order_id=42)
    customer.refresh_from_db()
    assert customer.balance == Decimal("101")


def test_balance_adjust_requires_a_reason_and_moves_either_way(customer: User, staff: User) -> None:
    with pytest.raises(InvalidRequest):
        balance_adjust(user_id=customer.pk, amount=Decimal("5"), memo=" ", created_by=staff)

    balance_adjust(user_id=customer.pk, amount=Decimal("-30"), memo="chargeback", created_by=staff)
    balance_adjust(user_id=customer.pk, amount=Decimal("5"), memo="goodwill", created_by=staff)

    customer.refresh_from_db()
    assert customer.balance == Decimal("75")
    assert (
        BalanceTransaction.objects.filter(
            user=customer, kind=Kind.ADJUSTMENT, created_by=staff
        ).count()
        == 2
    )


def test_balance_credit_many_chains_balance_after_per_user(customer: User, reseller: User) -> None:
    balance_credit_many(
        credits=[
            Credit(user_id=reseller.pk, amount=Decimal("1.5"), kind=Kind.REFUND, order_id=1),
            Credit(user_id=customer.pk, amount=Decimal("2"), kind=Kind.REFUND, order_id=2),
            Credit(user_id=reseller.pk, amount=Decimal("0.25"), kind=Kind.REFUND, order_id=3),
        ]
    )

    rows = BalanceTransaction.objects.filter(kind=Kind.REFUND)
    by_order = dict(rows.values_list("order_id", "balance_after"))
    assert by_order == {1: Decimal("101.5"), 3: Decimal("101.75"), 2: Decimal("102")}
    assert ledger_mismatches() == []


@pytest.mark.parametrize("is_pipelined", [False, True])
def test_balance_credit_many_rolls_the_whole_batch_back_on_a_repeated_refund(
    customer: User, reseller: User, is_pipelined: bool
) -> None:
    # given: order 7 was refunded already
    balance_credit(user_id=customer.pk, amount=Decimal("1"), kind=Kind.REFUND, order_id=7)

    # when: a batch refunds another order, then order 7 again (as polling does, pipelined)
    pipeline = pipelined() if is_pipelined else contextlib.nullcontext()
    with pytest.raises(IntegrityError), transaction.atomic(), pipeline:
        balance_credit_many(
            credits=[
                Credit(user_id=reseller.pk, amount=Decimal("3"), kind=Kind.REFUND, order_id=8),
                Credit(user_id=customer.pk, amount=Decimal("1"), kind=Kind.REFUND, order_id=7),
            ]
        )

    # then: neither balance nor ledger moved
    customer.refresh_from_db(), reseller.refresh_from_db()
    assert (customer.balance, reseller.balance) == (Decimal("101"), Decimal("100"))
    assert not BalanceTransaction.objects.filter(order_id=8).exists()
    assert ledger_mismatches() == []


def test_a_batch_refund_of_a_refill_names_it_and_is_refused_a_second_time(
    customer: User,
) -> None:
    refund = Credit(user_id=customer.pk, amount=Decimal("2"), kind=Kind.REFUND, refill_id=31)
    balance_credit_many(credits=[refund])

    assert BalanceTransaction.objects.get(kind=Kind.REFUND).refill_id == 31
    with pytest.raises(IntegrityError), transaction.atomic():
        balance_credit_many(credits=[refund])
    customer.refresh_from_db()
    assert customer.balance == Decimal("102")
    assert ledger_mismatches() == []


def test_user_create_customer_credits_opening_balance_through_ledger(db: None) -> None:
    user = user_create_customer(username="newbie", balance=Decimal("25.00"))

    assert user.balance == Decimal("25")
    assert not user.has_usable_password()
    assert list(user.ledger.values_list("kind", "amount")) == [(Kind.DEPOSIT, Decimal("25"))]
    with pytest.raises(InvalidRequest):
        user_create_customer(username="NEWBIE")


def test_api_key_is_shown_once_and_stored_as_hmac(reseller: User) -> None:
    key = api_key_create(user=reseller)

    stored = reseller.api_keys.get()
    assert key.startswith("smm_") and len(key) == 44
    assert key not in (stored.prefix, stored.digest)
    assert api_key_authenticate(key=key) == reseller


def test_api_key_regeneration_revokes_the_old_key(reseller: User) -> None:
    old = api_key_create(user=reseller)
    new = api_key_create(user=reseller)

    assert api_key_authenticate(key=old) is None
    assert api_key_authenticate(key=new) == reseller


def test_api_key_stops_working_when_revoked_or_user_disabled(reseller: User) -> None:
    key = api_key_create(user=reseller)
    User.objects.filter(pk=reseller.pk).update(is_active=False)
    assert api_key_authenticate(key=key) is None

    User.objects.filter(pk=reseller.pk).update(is_active=True)
    api_key_revoke(user=reseller)
    assert api_key_authenticate(key=key) is None


@pytest.mark.parametrize("key", ["", "smm_", "nonsense", "smm_" + "A" * 40, "x" * 500])
def test_api_key_authenticate_rejects_unknown_keys(reseller: User, key: str) -> None:
    api_key_create(user=reseller)
    assert api_key_authenticate(key=key) is None


@pytest.mark.django_db(transaction=True)
def test_racing_debits_never_overdraw_and_ledger_sums_to_balance() -> None:
    # given a user with 10.00 and 40 threads each debiting 0.50 at once
    user = UserFactory(funds=Decimal("10"))

    def debit(_: int) -> bool:
        try:
            balance_debit(user_id=user.pk, amount=Decimal("0.50"), memo="race")
        except InsufficientFunds:
            return False
        finally:
            connection.close()
        return True

    # when
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(debit, range(40)))

    # then exactly 20 debits went through and the balance is zero, never below
    user.refresh_from_db()
    assert outcomes.count(True) == 20
    assert user.balance == Decimal("0")
    assert ledger_mismatches() == []
    assert BalanceTransaction.objects.filter(user=user, kind=Kind.CHARGE).count() == 20
    assert min(
        BalanceTransaction.objects.filter(user=user).values_list("balance_after", flat=True)
    ) == Decimal("0")


@pytest.mark.django_db(transaction=True)
def test_racing_credit_batches_chain_every_balance_after_exactly() -> None:
    # given two users and 12 batches at once (as pollers' lanes credit refunds), each crediting
    # both users twice, pipelined, in the order of a poll's chunk
    first, second = UserFactory(funds=Decimal("10")), UserFactory(funds=Decimal("0"))

    def batch(number: int) -> None:
        base = 10 * number
        try:
            with transaction.atomic(), pipelined():
                balance_credit_many(
                    credits=[
                        Credit(first.pk, Decimal("0.25"), Kind.REFUND, order_id=base + 1),
                        Credit(second.pk, Decimal("1"), Kind.REFUND, order_id=base + 2),
                        Credit(first.pk, Decimal("0.5"), Kind.REFUND, order_id=base + 3),
                        Credit(second.pk, Decimal("2"), Kind.REFUND, order_id=base + 4),
                    ]
                )
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(batch, range(12)))

    # then: each balance moved by every batch, and each user's ledger is one unbroken chain
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.balance, second.balance) == (Decimal("19"), Decimal("36"))
    assert ledger_mismatches() == []
    for user, opening in ((first, Decimal("10")), (second, Decimal("0"))):
        running = opening
        rows = BalanceTransaction.objects.filter(user=user, kind=Kind.REFUND).order_by("pk")
        for amount, balance_after in rows.values_list("amount", "balance_after"):
            running += amount
            assert balance_after == running


def test_a_debit_and_its_ledger_row_are_one_statement(reseller: User) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        entry = balance_debit(user_id=reseller.pk, amount=Decimal("30"), memo="one trip")

    assert len(queries) == 1
    stored = BalanceTransaction.objects.get(pk=entry.pk)
    assert (stored.amount, stored.balance_after, stored.memo) == (
        Decimal("-30"),
        Decimal("70"),
        "one trip",
    )
    assert (entry.balance_after, entry.created_at) == (stored.balance_after, stored.created_at)
    assert not entry._state.adding
    # refused: nothing written, and the transaction goes on
    with pytest.raises(InsufficientFunds):
        balance_debit(user_id=reseller.pk, amount=Decimal("70.000001"))
    assert BalanceTransaction.objects.filter(user=reseller).count() == 2  # deposit and debit
    assert User.objects.get(pk=reseller.pk).balance == Decimal("70")


def test_user_create_customer_refuses_a_taken_name_in_the_readers_words(db: None) -> None:
    from django.utils import translation

    from core.errors import InvalidRequest, error_display

    user_create_customer(username="taken")
    with pytest.raises(InvalidRequest) as refused:
        user_create_customer(username="TAKEN")
    assert refused.value.message == "A user named TAKEN already exists"
    with translation.override("vi"):
        assert error_display(refused.value) == "Tên đăng nhập TAKEN đã được sử dụng"
