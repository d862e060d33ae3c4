"""Bank transfers reported by SePay or Casso: recorded once per transfer, matched to a customer
by the memo, credited in the same transaction. Each panel's own: a transfer reported on a child
panel's host is recorded for that panel (core.tenancy) and credits its customers only.

Once per transfer, whoever reports it: a replay of one reporter finds its row by (gateway,
transfer id); the same transfer reported by the other service (both configured, or a move from
one to the other) finds it by what the bank says (account, bank reference, amount, date: the
`deposit_once_per_bank_transfer` key) and is only recorded against it (`TransferReport`)."""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_noop

from accounts.models import User
from core import memos
from core.errors import InvalidRequest
from core.memos import Memo, Text
from core.money import money_str
from core.tenancy import current_panel_id
from notifications.services import notify_deposit_unmatched
from payments.config import GatewayConfig, gateway_config
from payments.memo import user_ids_in
from payments.memos import ABOVE_MAXIMUM, BELOW_MINIMUM
from payments.models import Deposit, Gateway, Method, TransferReport
from payments.services.crediting import (
    DepositOutcome,
    bank_coupon_take,
    credit_locked,
    credited_amount_for,
)

logger = logging.getLogger(__name__)
Status = Deposit.Status


@dataclass(frozen=True)
class BankKey:
    """The transfer as the bank names it (see `bank_key` in payments.gateways.base)."""

    account: str
    reference: str
    day: date


@dataclass(frozen=True)
class Transfer:
    gateway: str
    external_id: str
    amount: Decimal
    content: str
    payload: dict
    # The reporter's own reading of the payment code (SePay's `code`), preferred to the text.
    code: str = ""
    bank: BankKey | None = None
    # Who sent it, when the reporter says (Casso's counter account): see Deposit.payer_account.
    payer_account: str = ""
    payer_name: str = ""


def _insert_once(transfer: Transfer, *, rate: Decimal) -> DepositOutcome:
    """The new row, or the one an earlier or concurrent delivery wrote (by this reporter or the
    other one). A concurrent insert of either key waits on its unique index until the other
    transaction ends, and then finds the committed row."""
    bank = transfer.bank
    panel_id = current_panel_id()
    try:
        with transaction.atomic():
            deposit = Deposit.objects.create(
                child_panel_id=panel_id,
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
                bank_account=bank.account if bank else "",
                bank_reference=bank.reference if bank else "",
                bank_date=bank.day if bank else None,
                payer_account=transfer.payer_account[:64],
                payer_name=transfer.payer_name[:128],
            )
    except IntegrityError:
        existing = Deposit.objects.filter(
            child_panel_id=panel_id, gateway=transfer.gateway, external_id=transfer.external_id
        ).first()
        if existing is None and bank is not None:
            existing = _reported_by_other(transfer, bank)
        if existing is None:
            raise
        return DepositOutcome(deposit=existing, is_new=False)
    return DepositOutcome(deposit=deposit, is_new=True)


def _reported_by_other(transfer: Transfer, bank: BankKey) -> Deposit | None:
    """The deposit another reporter made of this transfer, with this report recorded on it."""
    deposit = Deposit.objects.filter(
        child_panel_id=current_panel_id(),
        bank_account=bank.account,
        bank_reference=bank.reference,
        amount=transfer.amount,
        bank_date=bank.day,
    ).first()
    if deposit is not None:
        TransferReport.objects.get_or_create(
            gateway=transfer.gateway,
            external_id=transfer.external_id,
            defaults={"deposit": deposit, "payload": transfer.payload},
        )
        logger.info(
            "deposit %s also reported by %s (%s)",
            deposit.pk,
            transfer.gateway,
            transfer.external_id,
        )
    return deposit


def _named_customer(transfer: Transfer, *, prefix: str) -> tuple[set[int], str]:
    """The customers the transfer names, and the reason to park it when not exactly one. The
    reporter's parsed code wins when it names one customer; otherwise the whole text decides."""
    if transfer.code and len(ids := user_ids_in(transfer.code, prefix=prefix)) == 1:
        return ids, ""
    ids = user_ids_in(transfer.content, prefix=prefix)
    if not ids:
        return ids, gettext_noop("the memo names no customer")
    if len(ids) > 1:
        return ids, gettext_noop("the memo names more than one customer")
    return ids, ""


def _outside_limits(amount: Decimal, *, low: Decimal | None, high: Decimal | None) -> Memo | None:
    if low is not None and amount < low:
        return BELOW_MINIMUM(amount=money_str(low))
    if high is not None and amount > high:
        return ABOVE_MAXIMUM(amount=money_str(high))
    return None


def _gateway_name(code: str) -> "str | Promise":
    """The reporter's name as a translatable text; a code no longer known, as it is."""
    return Gateway(code).label if code in Gateway.values else code


def _park(deposit: Deposit, status: str, reason: Text, *, user_id: int | None = None) -> Deposit:
    Deposit.objects.filter(pk=deposit.pk).update(
        status=status, user_id=user_id, **memos.columns(reason, prefix="reason", max_length=255)
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
        ids, unnamed = _named_customer(transfer, prefix=config.transfer_prefix)
        user_id = ids.pop() if len(ids) == 1 else None
        # Only a customer of the panel whose account received it: a child panel's memo naming
        # a parent's customer (or another panel's) names nobody here.
        customers = User.objects.filter(child_panel_id=current_panel_id(), is_active=True)
        if user_id is not None and not customers.filter(pk=user_id).exists():
            user_id, unnamed = None, gettext_noop("the memo names no customer")
        if user_id is None:
            deposit = _park(deposit, Status.UNMATCHED, unnamed)
            notify_deposit_unmatched(
                deposit_id=deposit.pk,
                reference=transfer.external_id,
                amount=transfer.amount,
                currency=deposit.currency,
                gateway=transfer.gateway,
                gateway_name=_gateway_name(transfer.gateway),
            )
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
