"""Crediting a deposit: the ledger line, the bonus line and the deposit's new state in one
transaction, under a lock on the deposit row. The ledger's unique (deposit, kind, month) is the
last guard: a second credit of one deposit cannot commit. A deposit of an archived month (paid
after its rejection) is booked in the current month, and then its row is the guard
(`_month_archived`)."""

import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.coupons import CouponInvalid, coupon_redeem
from accounts.models import BalanceTransaction, LedgerArchivedKey, User
from accounts.services import balance_credit
from core import memos
from core.db.partitions import archive as db_archive
from core.db.partitions import period_of
from core.errors import InvalidRequest, InvalidTransition
from core.memos import Memo, Param, money_param
from core.money import ZERO, money_str, quantize_money
from notifications.services import notify_deposit_credited, ranks_assign
from payments.memos import (
    COUPON_APPLIED,
    COUPON_NOT_APPLIED,
    DEPOSIT,
    DEPOSIT_BONUS,
    DEPOSIT_OTHER_AMOUNT,
)
from payments.models import BankCoupon, BonusRule, Deposit, Gateway

Status = Deposit.Status
BANK_GATEWAYS = (Gateway.SEPAY, Gateway.CASSO)
# What an admin decides on: crediting (assign) or refusing (reject) each ends it.
DECIDABLE = (Status.UNMATCHED, Status.REVIEW, Status.PAID_LATE)
Kind = BalanceTransaction.Kind


@dataclass(frozen=True)
class DepositOutcome:
    deposit: Deposit
    is_new: bool  # False when a replay found the row another delivery made


def credited_amount_for(*, amount: Decimal, rate: Decimal) -> Decimal:
    # Rounded down: the panel never credits more than it received.
    return quantize_money(amount / rate, rounding=ROUND_DOWN)


def bonus_for(*, gateway: str, credited: Decimal) -> Decimal:
    """The bonus of the highest tier the credited amount reaches (a gateway's own rule wins a
    tie with an every-gateway rule); manual deposits get only rules written for them."""
    scope = Q(gateway=gateway)
    if gateway != Gateway.MANUAL:
        scope |= Q(gateway="")
    rule = (
        BonusRule.objects.filter(scope, is_enabled=True, min_amount__lte=credited)
        .order_by("-min_amount", "-gateway")
        .first()
    )
    if rule is None:
        return ZERO
    return quantize_money(credited * rule.percent / 100, rounding=ROUND_DOWN)


def bonus_rule_percent() -> Decimal:
    """The largest percent an enabled bonus rule adds to a deposit: the margin guard counts it
    as a discount on credit (accounts.credit_bonus, registered in PaymentsConfig.ready)."""
    largest = BonusRule.objects.filter(is_enabled=True).aggregate(m=Max("percent"))["m"]
    return largest or ZERO


def credited_for_arrival(deposit: Deposit) -> Decimal | None:
    """What crediting the deposit adds, in the panel currency: what arrived at its frozen rate;
    None when it is not known how much arrived in the deposit's currency."""
    arrived = deposit.arrived_amount
    return None if arrived is None else credited_amount_for(amount=arrived, rate=deposit.rate)


def credit_locked(
    *,
    deposit: Deposit,
    user_id: int,
    created_by: User | None,
    credited: Decimal | None = None,
    other_amount: dict[str, Param] | None = None,
) -> Deposit:
    """Credit a deposit whose row the caller holds locked (select_for_update) in a transaction,
    and write the customer's "deposit credited" email (and the operators' line) to the outbox:
    what arrived (credited_for_arrival), or `credited` when an admin decided another amount,
    with the figures and the admin's reason (`other_amount`) on the ledger line. Raises InvalidRequest when neither is
    known or the amount is not positive."""
    credited = credited if credited is not None else credited_for_arrival(deposit)
    if credited is None:
        raise InvalidRequest(
            _("It is not known how much arrived: enter the amount to credit and a reason.")
        )
    if credited <= ZERO:
        raise InvalidRequest(_("The amount is too small to credit"))
    late = _month_archived(deposit)
    if late and _credited_before(deposit):
        raise InvalidTransition(gettext_noop("Deposit #%(pk)s was already credited"), pk=deposit.pk)
    about: dict[str, Param] = {"gateway": deposit.gateway, "id": deposit.pk}
    balance_credit(
        user_id=user_id,
        amount=credited,
        kind=Kind.DEPOSIT,
        memo=DEPOSIT_OTHER_AMOUNT(**about, **other_amount) if other_amount else DEPOSIT(**about),
        deposit_id=deposit.pk,
        created_by=created_by,
        in_current_month=late,
    )
    # The parent's bonus rules and coupons are the parent's: a child panel's customer paying
    # its owner gets none of them (the owner would be paying them).
    is_child = deposit.child_panel_id is not None
    bonus = ZERO if is_child else bonus_for(gateway=deposit.gateway, credited=credited)
    if bonus > ZERO:
        balance_credit(
            user_id=user_id,
            amount=bonus,
            kind=Kind.BONUS,
            memo=DEPOSIT_BONUS(**about),
            deposit_id=deposit.pk,
            in_current_month=late,
        )
    coupon_note = None if is_child else _redeem_coupon(deposit, user_id=user_id, credited=credited)
    if other_amount:
        reason = memos.columns(_other_amount_reason(other_amount), prefix="reason", max_length=255)
    else:
        reason = {}
    changed = Deposit.objects.filter(pk=deposit.pk, status=deposit.status).update(
        status=Status.CREDITED,
        **(
            {}
            if coupon_note is None
            else memos.columns(coupon_note, prefix="coupon_note", max_length=255)
        ),
        user_id=user_id,
        credited_amount=credited,
        bonus_amount=bonus,
        credited_at=timezone.now(),
        created_by=created_by or deposit.created_by,
        **reason,
        updated_at=timezone.now(),
    )
    if changed != 1:  # the row is locked, so only a caller bug gets here
        raise InvalidTransition()
    # In the crediting transaction: the email exists exactly when the credit does, and its
    # key (the deposit) keeps it to one whatever replays or second reports arrive.
    notify_deposit_credited(deposit_id=deposit.pk, user_id=user_id, amount=credited)
    # The rank this deposit earns, now and not at the next pass: in this transaction, after the
    # credit locked the customer's row, so two deposits of one customer promote in turn.
    ranks_assign(user_ids=[user_id])
    deposit.refresh_from_db()
    return deposit


def _month_archived(deposit: Deposit) -> bool:
    """Whether the deposit's own month (its id's) has had its ledger archived: a payment
    reported months after the deposit was closed as never paid (docs/scaling.md, "Pending
    deposits"). Its ledger rows would land in the ledger's DEFAULT partition, with no month
    to move to and a daily alert for good; they are booked in the current month instead, when
    the money arrived. The month's key (deposit, kind, month) then differs from month to month,
    so what keeps the credit to one is the deposit row: locked by every crediting caller, which
    credits only from a status that has not been credited, and set to credited in the same
    transaction; `_credited_before` backs it against a status set back by hand."""
    ledger = BalanceTransaction._meta.db_table
    month = period_of(Deposit._meta.db_table, deposit.pk)
    return month in db_archive.months(table=ledger, state="archived")


def _credited_before(deposit: Deposit) -> bool:
    """Whether the deposit has a credit on the ledger, live or in an archived month."""
    kind = Kind.DEPOSIT
    return (
        BalanceTransaction.objects.filter(deposit_id=deposit.pk, kind=kind).exists()
        or LedgerArchivedKey.objects.filter(
            subject=LedgerArchivedKey.Subject.DEPOSIT, subject_id=deposit.pk, kind=kind
        ).exists()
    )


def deposit_key(deposit: Deposit) -> str:
    """The deposit's external key: what makes its coupon bonus exactly-once (CouponRedemption).
    A started payment whose gateway never gave an id falls back to our own reference."""
    return f"{deposit.gateway}:{deposit.external_id or deposit.reference}"


def _redeem_coupon(deposit: Deposit, *, user_id: int, credited: Decimal) -> Memo | None:
    """The coupon's bonus line, in the caller's transaction; the note for the deposit (None: no
    coupon, the note stays). A coupon that no longer applies (expired, used up) is noted and the
    deposit is credited anyway."""
    if not deposit.coupon_code:
        return None
    try:
        redemption = coupon_redeem(
            code=deposit.coupon_code,
            user_id=user_id,
            deposit_amount=credited,
            deposit_key=deposit_key(deposit),
        )
    except CouponInvalid as exc:
        reason: Param = exc.message[:200]
        if exc.memo is not None:
            reason = {"code": exc.memo.code, "params": exc.memo.params}
        return COUPON_NOT_APPLIED(code=deposit.coupon_code, reason=reason)
    return COUPON_APPLIED(code=redemption.coupon.code, bonus=money_str(redemption.bonus))


def bank_coupon_take(*, deposit: Deposit, user_id: int) -> Deposit:
    """Attach the coupon `user_id` chose for their next bank transfer to this (locked) transfer
    and forget the choice: one chosen coupon goes with one transfer."""
    if deposit.coupon_code:
        return deposit
    choice = BankCoupon.objects.select_for_update().filter(user_id=user_id).first()
    if choice is None:
        return deposit
    choice.delete()
    Deposit.objects.filter(pk=deposit.pk).update(coupon_code=choice.code)
    deposit.coupon_code = choice.code
    return deposit


def _locked(deposit_id: int) -> Deposit:
    return Deposit.objects.select_for_update().get(pk=deposit_id)


def deposit_assign(
    *,
    deposit_id: int,
    user_id: int,
    admin: User,
    credited_amount: Decimal | None = None,
    reason: str = "",
) -> Deposit:
    """Credit an unmatched, review or paid-after-rejection deposit to `user_id`, with the
    admin's name on the ledger. Credits what arrived; `credited_amount` (panel currency) credits
    another amount, and then `reason` is required and written on the ledger line.
    Raises InvalidTransition when someone already credited or rejected it."""
    if not User.objects.filter(pk=user_id).exists():
        raise InvalidRequest(_("No such user"))
    if credited_amount is not None and (
        not credited_amount.is_finite()
        or credited_amount <= ZERO
        or credited_amount != quantize_money(credited_amount)
    ):
        raise InvalidRequest(_("Amount must be a positive number"))
    with transaction.atomic():
        deposit = _locked(deposit_id)
        if deposit.status not in DECIDABLE:
            raise InvalidTransition(
                gettext_noop("Deposit #%(pk)s is %(status)s"),
                pk=deposit.pk,
                status=str(deposit.get_status_display()),
            )
        # A transfer into a child panel's owner's account is money of that panel's customers.
        currency = (
            User.objects.filter(pk=user_id, child_panel_id=deposit.child_panel_id)
            .values_list("currency", flat=True)
            .first()
        )
        if currency is None:
            raise InvalidRequest(_("This customer is not of the panel the money arrived on"))
        other_amount = _other_amount(
            deposit, credited_amount, reason=reason, admin=admin, currency=currency
        )
        if deposit.gateway in BANK_GATEWAYS:
            deposit = bank_coupon_take(deposit=deposit, user_id=user_id)
        return credit_locked(
            deposit=deposit,
            user_id=user_id,
            created_by=admin,
            credited=credited_amount,
            other_amount=other_amount,
        )


def _other_amount(
    deposit: Deposit, credited: Decimal | None, *, reason: str, admin: User, currency: str
) -> dict[str, Param] | None:
    """The ledger memo's parameters for an amount other than what arrived (None when it is what
    arrived): the figures, the admin's reason as typed and their name. The figures are in
    `currency`, the customer's balance's (his panel's: the deposit's rate converts into it),
    and stored with it: the parent's admin reads a child panel's line in the child's."""
    arrival = credited_for_arrival(deposit)
    if credited is None or credited == arrival:
        return None
    if not reason.strip():
        raise InvalidRequest(_("Crediting another amount than what arrived needs a reason."))
    return {
        "credited": money_param(credited, currency=currency),
        "arrived": money_param(arrival, currency=currency) if arrival is not None else "?",
        "reason": reason.strip()[:150],
        "admin": admin.username,
    }


def _other_amount_reason(other_amount: dict[str, Param] | None) -> str:
    """The deposit's own reason for another amount: the admin's words and name (its figures
    are the deposit's columns)."""
    if not other_amount:
        return ""
    return f"{other_amount['reason']} ({other_amount['admin']})"[:255]


def deposit_reject(*, deposit_id: int, admin: User, reason: str) -> Deposit:
    """Close a deposit without crediting it (a refund outside the panel, a test transfer)."""
    if not reason.strip():
        raise InvalidRequest("A reason is required")
    with transaction.atomic():
        deposit = _locked(deposit_id)
        if deposit.is_final:
            raise InvalidTransition(
                gettext_noop("Deposit #%(pk)s is %(status)s"),
                pk=deposit.pk,
                status=str(deposit.get_status_display()),
            )
        Deposit.objects.filter(pk=deposit.pk).update(
            status=Status.REJECTED,
            **memos.columns(
                f"{reason.strip()} ({admin.username})", prefix="reason", max_length=255
            ),
            updated_at=timezone.now(),
        )
        deposit.refresh_from_db()
        return deposit


def deposit_create_manual(*, user_id: int, amount: Decimal, memo: str, admin: User) -> Deposit:
    """The admin's "Add funds": a credited deposit of gateway manual, in the panel currency."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= ZERO:
        raise InvalidRequest("Amount must be a positive number")
    with transaction.atomic():
        deposit = Deposit.objects.create(
            gateway=Gateway.MANUAL,
            external_id=uuid.uuid4().hex,
            user_id=user_id,
            amount=amount,
            currency=settings.PANEL_CURRENCY,
            received_amount=amount,
            received_currency=settings.PANEL_CURRENCY,
            rate=Decimal(1),
            status=Status.PENDING,
            memo=memo[:255],
            created_by=admin,
        )
        return credit_locked(deposit=_locked(deposit.pk), user_id=user_id, created_by=admin)
