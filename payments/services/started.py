"""Payments the customer starts (Stripe Checkout, Cryptomus invoices): a pending deposit first,
the gateway's id attached once its session or invoice exists, credited when its webhook says
paid. The deposit row lock makes a replayed or concurrent webhook a no-op."""

import logging
import uuid
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from core import memos
from core.errors import InvalidRequest
from core.memos import Text, money_param
from core.money import money_shown
from payments.config import GatewayConfig
from payments.memos import PAID_AFTER_REJECTED, PAID_OTHER_AMOUNT
from payments.models import Deposit
from payments.services.coupons import deposit_coupon_quote
from payments.services.crediting import DepositOutcome, credit_locked, credited_amount_for

logger = logging.getLogger(__name__)
Status = Deposit.Status


def deposit_start(
    *, user: User, gateway: str, config: GatewayConfig, amount: Decimal, coupon_code: str = ""
) -> Deposit:
    """A pending deposit of `amount` in the gateway's currency, inside its limits. A coupon is
    checked now (CouponInvalid) and redeemed when the payment is credited."""
    if not config.is_offered or config.rate is None:
        raise InvalidRequest(_("This payment method is not available"))
    if not amount.is_finite() or amount <= 0:
        raise InvalidRequest(_("The amount must be positive"))
    if config.min_amount is not None and amount < config.min_amount:
        raise InvalidRequest(
            _("The minimum is %(amount)s")
            % {"amount": money_shown(config.min_amount, currency=config.currency)}
        )
    if config.max_amount is not None and amount > config.max_amount:
        raise InvalidRequest(
            _("The maximum is %(amount)s")
            % {"amount": money_shown(config.max_amount, currency=config.currency)}
        )
    if credited_amount_for(amount=amount, rate=config.rate) <= 0:
        raise InvalidRequest(_("The amount is too small"))
    if coupon_code:
        quote = deposit_coupon_quote(code=coupon_code, user=user, amount=amount, rate=config.rate)
        coupon_code = quote.coupon.code
    return Deposit.objects.create(
        coupon_code=coupon_code,
        user=user,
        gateway=gateway,
        amount=amount,
        currency=config.currency,
        rate=config.rate,
        status=Status.PENDING,
    )


def deposit_attach_external(*, deposit_id: int, external_id: str) -> None:
    Deposit.objects.filter(pk=deposit_id, external_id="").update(external_id=external_id)


def _find_locked(*, gateway: str, external_id: str, reference: str) -> Deposit | None:
    match = Q(external_id=external_id) if external_id else Q(pk__in=[])
    try:
        match |= Q(reference=uuid.UUID(reference))
    except ValueError:
        pass  # not one of ours: the external id alone decides
    return Deposit.objects.select_for_update().filter(match, gateway=gateway).first()


def deposit_confirm_paid(
    *,
    gateway: str,
    external_id: str,
    reference: str,
    amount: Decimal,
    currency: str,
    payload: dict,
    payment_ref: str = "",
) -> DepositOutcome:
    """Credit the pending deposit the gateway reports paid, once. A paid amount or currency
    other than the one asked for puts it in review instead, and a payment of a deposit an admin
    had rejected waits as paid-after-rejection. Raises InvalidRequest when no deposit of this
    gateway has that id or reference."""
    with transaction.atomic():
        deposit = _find_locked(gateway=gateway, external_id=external_id, reference=reference)
        if deposit is None:
            raise InvalidRequest(_("Unknown payment"))
        if not _takes_a_payment(deposit):
            return DepositOutcome(deposit=deposit, is_new=False)
        _record_payment(
            deposit,
            external_id=external_id,
            payload=payload,
            amount=amount,
            currency=currency,
            payment_ref=payment_ref,
        )
        if deposit.status == Status.REJECTED:
            return DepositOutcome(deposit=_paid_late(deposit), is_new=True)
        if currency.upper() != deposit.currency.upper() or amount != deposit.amount:
            reason = PAID_OTHER_AMOUNT(
                paid=money_param(amount, currency=currency),
                asked=money_param(deposit.amount, currency=deposit.currency),
            )
            return DepositOutcome(deposit=_review(deposit, reason), is_new=True)
        # A deposit started by a customer always has its user.
        user_id = cast(int, deposit.user_id)
        credited = credit_locked(deposit=deposit, user_id=user_id, created_by=None)
        return DepositOutcome(deposit=credited, is_new=True)


def _takes_a_payment(deposit: Deposit) -> bool:
    """Pending, or rejected by an admin before any payment was reported: a payment of a rejected
    deposit must reach someone, not be answered as a replay. Anything else has had its report
    (this is a replay, or a second report of the same payment). Only a payment report stores a
    payload on a started deposit, so an empty one means none came yet."""
    if deposit.status == Status.PENDING:
        return True
    return deposit.status == Status.REJECTED and not deposit.payload


def _record_payment(
    deposit: Deposit,
    *,
    external_id: str,
    payload: dict,
    amount: Decimal | None,
    currency: str,
    payment_ref: str = "",
) -> None:
    received = {"received_amount": amount, "received_currency": currency.upper()}
    Deposit.objects.filter(pk=deposit.pk).update(
        payload=payload,
        payment_ref=payment_ref[:128] or deposit.payment_ref,
        external_id=deposit.external_id or external_id,
        **(received if amount is not None and amount > 0 else {}),
    )
    deposit.refresh_from_db()


def _paid_late(deposit: Deposit) -> Deposit:
    before = {"code": deposit.reason_code, "params": deposit.reason_params, "text": deposit.reason}
    Deposit.objects.filter(pk=deposit.pk).update(
        status=Status.PAID_LATE,
        **memos.columns(PAID_AFTER_REJECTED(before=before), prefix="reason", max_length=255),
    )
    deposit.refresh_from_db()
    logger.warning("deposit %s paid after it was rejected: waits for an admin", deposit.pk)
    return deposit


def _review(deposit: Deposit, reason: Text) -> Deposit:
    Deposit.objects.filter(pk=deposit.pk).update(
        status=Status.REVIEW, **memos.columns(reason, prefix="reason", max_length=255)
    )
    deposit.refresh_from_db()
    logger.info("deposit %s needs review: %s", deposit.pk, reason)
    return deposit


def deposit_mark_review(
    *,
    gateway: str,
    external_id: str,
    reference: str,
    reason: str,
    payload: dict,
    received_amount: Decimal | None = None,
    received_currency: str = "",
) -> DepositOutcome:
    """A pending deposit the gateway reports oddly (Cryptomus `wrong_amount`) waits for an admin,
    with what arrived when the gateway says (crediting it credits that)."""
    with transaction.atomic():
        deposit = _find_locked(gateway=gateway, external_id=external_id, reference=reference)
        if deposit is None:
            raise InvalidRequest(_("Unknown payment"))
        if not _takes_a_payment(deposit):
            return DepositOutcome(deposit=deposit, is_new=False)
        _record_payment(
            deposit,
            external_id=external_id,
            payload=payload,
            amount=received_amount,
            currency=received_currency,
        )
        if deposit.status == Status.REJECTED:
            return DepositOutcome(deposit=_paid_late(deposit), is_new=True)
        return DepositOutcome(deposit=_review(deposit, reason), is_new=True)


def deposit_abandon(*, deposit_id: int, reason: str) -> None:
    """A pending deposit whose session or invoice could not be created: closed, never paid."""
    Deposit.objects.filter(pk=deposit_id, status=Status.PENDING).update(
        status=Status.REJECTED, reason=reason[:255]
    )


def deposit_close_unpaid(*, gateway: str, external_id: str, reason: str) -> None:
    """The gateway says this payment will never complete (expired session, cancelled invoice)."""
    Deposit.objects.filter(gateway=gateway, external_id=external_id, status=Status.PENDING).update(
        status=Status.REJECTED, reason=reason[:255]
    )
