"""Money that came back out after a deposit was credited: a refund to the payer or a card
chargeback, recorded once per deposit (DepositReversal), and who paid, where a gateway tells
it after the payment (a card's fingerprint from its Stripe charge)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.errors import InvalidRequest, InvalidTransition
from payments.models import Deposit, DepositReversal

Status = Deposit.Status


def deposit_reversal_record(
    *,
    deposit_id: int,
    kind: str,
    external_id: str = "",
    reason: str = "",
    admin: User | None = None,
) -> DepositReversal:
    """Record that a credited deposit was refunded or charged back; the first report counts and
    a repeat returns it. An admin must give a reason. Raises InvalidTransition for a deposit that
    was never credited. The customer's spending balance is not touched: taking money back from
    it is the admin's balance adjustment (docs/affiliates.md)."""
    if kind not in DepositReversal.Kind.values:
        raise InvalidRequest(f"Unknown reversal kind {kind!r}")
    if admin is not None and not reason.strip():
        raise InvalidRequest(_("A reason is required"))
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().get(pk=deposit_id)
        if deposit.status != Status.CREDITED:
            raise InvalidTransition(
                gettext_noop("Deposit #%(pk)s is %(status)s"),
                pk=deposit.pk,
                status=str(deposit.get_status_display()),
            )
        existing = DepositReversal.objects.filter(deposit_id=deposit.pk).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return DepositReversal.objects.create(
                    deposit=deposit,
                    kind=kind,
                    external_id=external_id[:128],
                    reason=(f"{reason.strip()} ({admin.username})" if admin else reason)[:255],
                    created_by=admin,
                )
        except IntegrityError:  # cannot happen under the row lock; kept for a direct insert
            return DepositReversal.objects.get(deposit_id=deposit.pk)


def deposit_by_payment(*, gateway: str, payment_ref: str) -> Deposit | None:
    return Deposit.objects.filter(gateway=gateway, payment_ref=payment_ref).first()


def deposit_payer_record(*, deposit_id: int, payer_account: str) -> None:
    """Who paid, learnt after the payment: kept once (the first report), never overwritten."""
    Deposit.objects.filter(pk=deposit_id, payer_account="").update(payer_account=payer_account[:64])
