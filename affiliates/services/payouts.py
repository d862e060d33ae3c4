"""What an affiliate does with available commission: move it into the spending balance, or ask
for a payout that an admin then marks paid or rejects (docs/affiliates.md)."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.commission import commission_credit, commission_debit_payout, commission_to_balance
from accounts.models import CommissionTransaction, User
from affiliates.models import Payout
from core.errors import InsufficientFunds, InvalidRequest, InvalidTransition
from core.money import MONEY_QUANTUM, ZERO, money_str


def _valid_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite() or amount <= ZERO or amount != amount.quantize(MONEY_QUANTUM):
        raise InvalidRequest(_("Amount must be a positive number"))
    return amount


def commission_move_to_balance(*, user: User, amount: Decimal) -> None:
    """Available commission into the spending balance, both ledgers in one transaction."""
    try:
        commission_to_balance(user_id=user.pk, amount=_valid_amount(amount))
    except InsufficientFunds as exc:
        raise InvalidRequest(_("That is more than your available commission.")) from exc


def payout_request(*, user: User, amount: Decimal, details: str) -> Payout:
    """A payout of at least PANEL_AFFILIATE_MIN_PAYOUT to where `details` says, set aside from
    the commission balance at once (so it cannot also be moved or asked for twice)."""
    amount = _valid_amount(amount)
    if amount < settings.PANEL_AFFILIATE_MIN_PAYOUT:
        raise InvalidRequest(
            _("The smallest payout is %(amount)s.")
            % {"amount": money_str(settings.PANEL_AFFILIATE_MIN_PAYOUT)}
        )
    if not details.strip():
        raise InvalidRequest(_("Say where the payout should go."))
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                affiliate=user, amount=amount, details=details.strip()[:255]
            )
            commission_debit_payout(user_id=user.pk, amount=amount, payout_id=payout.pk)
    except InsufficientFunds as exc:
        raise InvalidRequest(_("That is more than your available commission.")) from exc
    return payout


def payout_decide(*, payout_id: int, paid: bool, reason: str, admin: User) -> Payout:
    """Mark a requested payout paid (sent outside the panel) or rejected (a reason is required;
    the amount goes back to the commission balance). Raises InvalidTransition when someone
    already decided it."""
    if not paid and not reason.strip():
        raise InvalidRequest(_("A reason is required"))
    with transaction.atomic():
        changed = Payout.objects.filter(pk=payout_id, status=Payout.Status.REQUESTED).update(
            status=Payout.Status.PAID if paid else Payout.Status.REJECTED,
            reason=reason.strip()[:255],
            decided_by=admin,
            decided_at=timezone.now(),
        )
        if changed != 1:
            raise InvalidTransition(_("This payout was already decided."))
        payout = Payout.objects.get(pk=payout_id)
        if not paid:
            commission_credit(
                user_id=payout.affiliate_id,
                amount=payout.amount,
                kind=CommissionTransaction.Kind.PAYOUT_RETURN,
                payout_id=payout.pk,
                created_by=admin,
            )
    return payout
