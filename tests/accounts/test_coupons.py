"""Deposit coupons: a bonus as its own ledger line, exactly once per deposit, within limits."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.coupons import CouponInvalid, coupon_create, coupon_quote, coupon_redeem
from accounts.models import BalanceTransaction, Coupon, User
from tests.factories import UserFactory


def test_redeem_pays_percent_and_amount_as_a_bonus_line(customer: User) -> None:
    coupon_create(code="spring10", bonus_percent=Decimal(10), bonus_amount=Decimal("1.5"))

    redemption = coupon_redeem(
        code=" Spring10 ", user_id=customer.pk, deposit_amount=Decimal(50), deposit_key="bank:1"
    )

    customer.refresh_from_db()
    assert redemption.bonus == Decimal("6.5") and customer.balance == Decimal("106.5")
    entry = redemption.ledger_entry
    assert entry.kind == BalanceTransaction.Kind.BONUS and entry.amount == Decimal("6.5")
    assert Coupon.objects.get(code="SPRING10").uses == 1


def test_a_replayed_deposit_gets_its_bonus_once(customer: User) -> None:
    coupon_create(code="ONCE", bonus_amount=Decimal(5), max_uses_per_user=3)

    first = coupon_redeem(
        code="ONCE", user_id=customer.pk, deposit_amount=Decimal(20), deposit_key="sepay:77"
    )
    again = coupon_redeem(
        code="ONCE", user_id=customer.pk, deposit_amount=Decimal(20), deposit_key="sepay:77"
    )

    assert again.pk == first.pk
    assert BalanceTransaction.objects.filter(kind="bonus").count() == 1
    assert Coupon.objects.get(code="ONCE").uses == 1


@pytest.mark.parametrize(
    ("values", "amount", "reason"),
    [
        ({"is_active": False}, "50", "not valid"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "50", "expired"),
        ({"min_deposit": Decimal(100)}, "50", "at least 100"),
        ({"max_uses": 1, "uses": 1}, "50", "used up"),
    ],
)
def test_coupons_outside_their_limits_are_refused_and_pay_nothing(
    customer: User, values: dict, amount: str, reason: str
) -> None:
    coupon = coupon_create(code="LIMITS", bonus_amount=Decimal(5))
    Coupon.objects.filter(pk=coupon.pk).update(**values)

    with pytest.raises(CouponInvalid, match=reason):
        coupon_redeem(
            code="LIMITS", user_id=customer.pk, deposit_amount=Decimal(amount), deposit_key="k1"
        )
    assert not BalanceTransaction.objects.filter(kind="bonus").exists()


def test_a_customer_uses_a_coupon_at_most_its_per_user_limit(customer: User) -> None:
    coupon_create(code="ONEEACH", bonus_amount=Decimal(2))
    coupon_redeem(code="ONEEACH", user_id=customer.pk, deposit_amount=Decimal(10), deposit_key="a")

    with pytest.raises(CouponInvalid, match="already used"):
        coupon_quote(code="oneeach", user_id=customer.pk, deposit_amount=Decimal(10))


@pytest.mark.django_db(transaction=True)
def test_racing_deposits_never_exceed_the_coupon_limit() -> None:
    # given: one use left and eight customers depositing at once
    coupon_create(code="LAST", bonus_amount=Decimal(3), max_uses=1)
    users = [UserFactory(funds=Decimal(1)) for _ in range(8)]

    def redeem(user: User) -> bool:
        try:
            coupon_redeem(
                code="LAST", user_id=user.pk, deposit_amount=Decimal(10), deposit_key=f"d{user.pk}"
            )
            return True
        except CouponInvalid:
            return False
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(redeem, users))
    # then
    assert outcomes.count(True) == 1
    assert Coupon.objects.get(code="LAST").uses == 1
    assert BalanceTransaction.objects.filter(kind="bonus").count() == 1
