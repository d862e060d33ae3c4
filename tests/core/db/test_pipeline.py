"""Pipelined statements (core.db.pipeline): the same results, the same errors, the same rollback."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import BalanceTransaction, User
from accounts.services import Credit, balance_credit_many
from core.db.pipeline import pipelined
from orders.models import Order


def _balance(user: User) -> Decimal:
    user.refresh_from_db()
    return user.balance


def test_pipelined_statements_read_what_earlier_ones_wrote(customer: User, place) -> None:  # noqa: ANN001
    order = place()
    with transaction.atomic(), pipelined():
        Order.objects.filter(pk=order.pk).update(remains=7)
        with connection.cursor() as cursor:
            cursor.execute("SELECT remains FROM orders_order WHERE id = %s", [order.pk])
            assert cursor.fetchone() == (7,)


@pytest.mark.django_db(transaction=True)
def test_an_error_in_a_pipelined_statement_is_djangos_and_rolls_the_transaction_back(
    customer: User,
    place,  # noqa: ANN001
) -> None:
    # given: an order whose refund is already in the ledger
    order = place()
    refund = Credit(user_id=customer.pk, amount=Decimal("1"), kind="refund", order_id=order.pk)
    balance_credit_many(credits=[refund])
    before = _balance(customer), BalanceTransaction.objects.count()

    # when: a pipelined transaction writes the order and then the same refund again
    def write_again() -> None:
        with transaction.atomic(), pipelined():
            Order.objects.filter(pk=order.pk).update(remains=3)
            balance_credit_many(credits=[refund])

    with pytest.raises(IntegrityError):
        write_again()

    # then: the error is Django's, and nothing of the transaction stayed
    assert (_balance(customer), BalanceTransaction.objects.count()) == before
    assert Order.objects.get(pk=order.pk).remains != 3
