"""Coupons on the add-funds page: checking one against the amount a customer means to pay, and
keeping the one chosen for the next bank transfer. Redeeming happens when the deposit is
credited (crediting.credit_locked), where a coupon that stopped applying is only noted."""

from decimal import Decimal

from accounts.coupons import CouponQuote, coupon_normalize, coupon_quote
from accounts.models import User
from payments.models import BankCoupon
from payments.services.crediting import credited_amount_for


def deposit_coupon_quote(*, code: str, user: User, amount: Decimal, rate: Decimal) -> CouponQuote:
    """The bonus `code` would add to a deposit of `amount` in the gateway's currency. Raises
    CouponInvalid (with the reason) when it would not apply. Changes nothing."""
    return coupon_quote(
        code=code, user_id=user.pk, deposit_amount=credited_amount_for(amount=amount, rate=rate)
    )


def bank_coupon_choose(*, user: User, code: str, amount: Decimal, rate: Decimal) -> CouponQuote:
    """Keep `code` for the customer's next bank transfer, checked against the amount they mean
    to send (the bonus is computed again on what actually arrives). Replaces an earlier choice.
    Raises CouponInvalid, keeping the earlier choice, when it would not apply."""
    quote = deposit_coupon_quote(code=code, user=user, amount=amount, rate=rate)
    BankCoupon.objects.update_or_create(user=user, defaults={"code": quote.coupon.code})
    return quote


def bank_coupon_clear(*, user: User) -> None:
    BankCoupon.objects.filter(user=user).delete()


def bank_coupon_of(*, user: User) -> str:
    """The code waiting for the customer's next transfer, or ''."""
    return coupon_normalize(
        BankCoupon.objects.filter(user=user).values_list("code", flat=True).first() or ""
    )
