"""Bank transfers reported by SePay or Casso: recorded once per (gateway, transfer id), matched
to a customer by the memo, credited in the same transaction."""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from accounts.models import User
from core.errors import InvalidRequest
from payments.config import GatewayConfig, gateway_config
from payments.memo import user_id_in
from payments.models import Deposit, Method
from payments.services.crediting import (
    DepositOutcome,
    bank_coupon_take,
    credit_locked,
    credited_amount_for,
)

logger = logging.getLogger(__name__)
Status = Deposit.Status


@dataclass(frozen=True)
class Transfer:
    gateway: str
    external_id: str
    amount: Decimal
    content: str
    payload: dict


def _insert_once(transfer: Transfer, *, rate: Decimal) -> DepositOutcome:
    """The new row, or the one an earlier or concurrent delivery wrote. A concurrent insert of
    the same key waits on the unique index until the other transaction ends."""
    try:
        with transaction.atomic():
            deposit = Deposit.objects.create(
                gateway=transfer.gateway,
                external_id=transfer.external_id,
                amount=transfer.amount,
                currency="VND",
                received_amount=transfer.amount,
                received_currency="VND",
                rate=rate,
                status=Status.PENDING,
                memo=transfer.content[:255],
                payload=transfer.payload,
            )
    except IntegrityError:
        existing = Deposit.objects.filter(
            gateway=transfer.gateway, external_id=transfer.external_id
        ).first()
        if existing is None:
            raise
        return DepositOutcome(deposit=existing, is_new=False)
    return DepositOutcome(deposit=deposit, is_new=True)


def _outside_limits(amount: Decimal, *, low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and amount < low:
        return f"below the minimum of {low} VND"
    if high is not None and amount > high:
        return f"above the maximum of {high} VND"
    return ""


def _park(deposit: Deposit, status: str, reason: str, *, user_id: int | None = None) -> Deposit:
    Deposit.objects.filter(pk=deposit.pk).update(
        status=status, reason=reason[:255], user_id=user_id
    )
    deposit.refresh_from_db()
    logger.info("deposit %s %s: %s", deposit.pk, status, reason)
    return deposit


def deposit_receive_transfer(
    *, transfer: Transfer, config: GatewayConfig | None = None
) -> DepositOutcome:
    """Record an incoming transfer once and credit it to the customer its memo names.

    A memo that names nobody leaves the deposit unmatched (the admin's queue); an amount
    outside the gateway's limits leaves it for review. Raises InvalidRequest when bank
    transfers are not configured (no rate) or the amount is not positive.
    """
    config = config or gateway_config(method=Method.BANK)  # the webhook passes the one it checked
    if config.rate is None:
        raise InvalidRequest("Bank transfers are not configured")
    if transfer.amount <= 0 or credited_amount_for(amount=transfer.amount, rate=config.rate) <= 0:
        raise InvalidRequest("The amount must be positive")
    with transaction.atomic():
        outcome = _insert_once(transfer, rate=config.rate)
        if not outcome.is_new:
            return outcome
        deposit = Deposit.objects.select_for_update().get(pk=outcome.deposit.pk)
        user_id = user_id_in(transfer.content, prefix=config.transfer_prefix)
        if user_id is None or not User.objects.filter(pk=user_id, is_active=True).exists():
            deposit = _park(deposit, Status.UNMATCHED, "the memo names no customer")
        elif reason := _outside_limits(
            transfer.amount, low=config.min_amount, high=config.max_amount
        ):
            # The money arrived anyway: an admin decides (credit it, or return it and reject).
            # The customer's coupon goes with it, so crediting it later still pays the bonus.
            deposit = bank_coupon_take(deposit=deposit, user_id=user_id)
            deposit = _park(deposit, Status.REVIEW, reason, user_id=user_id)
        else:
            deposit = bank_coupon_take(deposit=deposit, user_id=user_id)
            deposit = credit_locked(deposit=deposit, user_id=user_id, created_by=None)
        return DepositOutcome(deposit=deposit, is_new=True)
