"""Deposit coupons: checking a code and paying its bonus to the ledger, exactly once.

The deposit flow (payments) calls `coupon_redeem` in the same transaction that credits the
deposit, passing the deposit's external key (gateway + its transaction id) as `deposit_key`.
A replayed webhook calls it again with the same key and gets the first redemption back: the
unique key on CouponRedemption makes the bonus exactly-once whatever arrives twice.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from accounts.memos import COUPON_BONUS, COUPON_NEEDS_DEPOSIT
from accounts.models import BalanceTransaction, Coupon, CouponRedemption
from accounts.services import balance_credit
from core.errors import InvalidRequest
from core.memos import Memo
from core.money import ZERO, money_str, quantize_money

HUNDRED = Decimal(100)


class CouponInvalid(InvalidRequest):
    default_message = gettext_noop("This coupon code is not valid")
    # A reason with figures: stored with them as data (a deposit's coupon note) and written in
    # each reader's language, where the message is one language's sentence.
    memo: Memo | None = None


@dataclass(frozen=True)
class CouponQuote:
    coupon: Coupon
    bonus: Decimal


def coupon_normalize(code: str) -> str:
    return code.strip().upper()


def coupon_create(
    *,
    code: str,
    bonus_percent: Decimal = ZERO,
    bonus_amount: Decimal = ZERO,
    min_deposit: Decimal = ZERO,
    max_uses: int | None = None,
    max_uses_per_user: int = 1,
    expires_at: datetime | None = None,
) -> Coupon:
    code = coupon_normalize(code)
    if not code or Coupon.objects.filter(code=code).exists():
        raise InvalidRequest("The coupon code is empty or already taken")
    if bonus_percent <= ZERO and bonus_amount <= ZERO:
        raise InvalidRequest("A coupon needs a bonus percent or a bonus amount")
    return Coupon.objects.create(
        code=code,
        bonus_percent=bonus_percent,
        bonus_amount=bonus_amount,
        min_deposit=min_deposit,
        max_uses=max_uses,
        max_uses_per_user=max_uses_per_user,
        expires_at=expires_at,
    )


def _bonus(coupon: Coupon, deposit_amount: Decimal) -> Decimal:
    percent_part = deposit_amount * coupon.bonus_percent / HUNDRED
    return quantize_money(percent_part + coupon.bonus_amount, rounding=ROUND_HALF_UP)


def coupon_quote(*, code: str, user_id: int, deposit_amount: Decimal) -> CouponQuote:
    """The bonus `code` would add to this deposit, for the deposit form. Raises CouponInvalid
    (with the reason) when it would not apply. Changes nothing."""
    return _quote(
        Coupon.objects.filter(code=coupon_normalize(code)).first(), user_id, deposit_amount
    )


def _quote(coupon: Coupon | None, user_id: int, deposit_amount: Decimal) -> CouponQuote:
    coupon = _usable(coupon, user_id, deposit_amount)
    return CouponQuote(coupon=coupon, bonus=_bonus(coupon, deposit_amount))


def _usable(coupon: Coupon | None, user_id: int, deposit_amount: Decimal) -> Coupon:
    if coupon is None or not coupon.is_active:
        raise CouponInvalid()
    if coupon.expires_at is not None and coupon.expires_at <= timezone.now():
        raise CouponInvalid(gettext_noop("This coupon has expired"))
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CouponInvalid(gettext_noop("This coupon has been used up"))
    if deposit_amount < coupon.min_deposit:
        raise _below_minimum(coupon.min_deposit)
    used = CouponRedemption.objects.filter(coupon=coupon, user_id=user_id).count()
    if used >= coupon.max_uses_per_user:
        raise CouponInvalid(gettext_noop("You have already used this coupon"))
    return coupon


def _below_minimum(minimum: Decimal) -> CouponInvalid:
    memo = COUPON_NEEDS_DEPOSIT(amount=money_str(minimum))
    # The API's English sentence; pages (core.errors.error_display) write the memo in theirs.
    with translation.override("en"):
        exc = CouponInvalid(str(memo))
    exc.memo = memo
    exc.detail = memo  # type: ignore[attr-defined]
    return exc


def coupon_redeem(
    *, code: str, user_id: int, deposit_amount: Decimal, deposit_key: str
) -> CouponRedemption:
    """Pay the coupon's bonus for one deposit as its own ledger line (kind `bonus`).

    Exactly once per `deposit_key`: a second call with the same key returns the first
    redemption and credits nothing. Runs under a lock on the coupon row, so its use limit
    holds against concurrent deposits. Raises CouponInvalid when the coupon does not apply.
    """
    if not deposit_key:
        raise InvalidRequest("A deposit key is required")
    if existing := CouponRedemption.objects.filter(deposit_key=deposit_key).first():
        return existing
    try:
        with transaction.atomic():
            coupon = Coupon.objects.select_for_update().filter(code=coupon_normalize(code)).first()
            quote = _quote(coupon, user_id, deposit_amount)
            entry: BalanceTransaction = balance_credit(
                user_id=user_id,
                amount=quote.bonus,
                kind=BalanceTransaction.Kind.BONUS,
                memo=COUPON_BONUS(code=quote.coupon.code, deposit=deposit_key),
            )
            Coupon.objects.filter(pk=quote.coupon.pk).update(uses=F("uses") + 1)
            return CouponRedemption.objects.create(
                coupon=quote.coupon,
                user_id=user_id,
                deposit_key=deposit_key,
                deposit_amount=deposit_amount,
                bonus=quote.bonus,
                ledger_entry=entry,
            )
    except IntegrityError:
        # The same deposit redeemed concurrently: the winner's row is the answer.
        existing = CouponRedemption.objects.filter(deposit_key=deposit_key).first()
        if existing is None:
            raise
        return existing
