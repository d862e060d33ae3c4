"""What a child panel's owner pays: ordering one himself (the setup price and the first month
from his balance), each month's renewal on beat, suspension after the grace period and
resumption on payment. Every payment is a ledger line and a ChildPanelCharge, unique per panel,
kind and period, so a renewal run twice charges once (docs/child-panels.md)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import (
    BalanceTransaction,
    ChildPanel,
    ChildPanelCharge,
    ChildPanelState,
    SuspendedReason,
    User,
)
from accounts.ranks import can_order_child_panels
from accounts.services import balance_credit, balance_debit
from core.errors import InsufficientFunds, InvalidRequest
from core.money import ZERO
from core.tenancy import panel_scope
from panel.child_panels.services import child_panel_create, child_panel_move
from panel.child_panels.staff import child_panel_owner_login_create

PERIOD = timedelta(days=30)
S = ChildPanelState


def _charge(
    *, child: ChildPanel, kind: str, period_start: datetime | None, amount: Decimal
) -> None:
    # The memo is data (the domain), never words: the kind's label says what it was.
    entry = balance_debit(
        user_id=child.owner_id,
        amount=amount,
        kind=BalanceTransaction.Kind.CHILD_PANEL,
        memo=child.domain,
    )
    ChildPanelCharge.objects.create(
        child_panel=child, kind=kind, period_start=period_start, amount=amount, ledger_entry=entry
    )


def child_panel_order(
    *,
    owner: User,
    domain: str,
    name: str,
    language: str,
    admin_username: str,
    admin_password: str,
    currency: str = "",
) -> ChildPanel:
    """A customer's own order of a child panel: provisioned at once (waiting for DNS), its
    setup price and first month taken from his balance, and his login on it created.

    Raises InvalidRequest (not eligible, bad or taken domain) or InsufficientFunds; nothing is
    kept then."""
    if owner.child_panel_id is not None or not can_order_child_panels(user=owner):
        raise InvalidRequest(gettext_noop("Your account cannot order child panels."))
    setup = settings.PANEL_CHILD_PANEL_SETUP_PRICE
    fee = settings.PANEL_CHILD_PANEL_MONTHLY_FEE
    now = timezone.now()
    with transaction.atomic():
        child = child_panel_create(
            domain=domain,
            owner=owner,
            name=name,
            language=language,
            currency=currency,
            monthly_fee=fee,
        )
        if setup > ZERO:
            _charge(child=child, kind=ChildPanelCharge.Kind.SETUP, period_start=None, amount=setup)
        if fee > ZERO:
            _charge(child=child, kind=ChildPanelCharge.Kind.MONTH, period_start=now, amount=fee)
            child.paid_until = now + PERIOD
            child.save(update_fields=["paid_until"])
        child_panel_owner_login_create(
            child=child, username=admin_username, password=admin_password
        )
    return child


def child_panel_renew(*, child_panel_id: int, now: datetime | None = None) -> str:
    """Charge the panel's fee if it is due: "not_due", "paid" (a panel suspended for an unpaid
    fee opens again, its new month starting now), "unpaid" (the balance is short; still in its
    grace period), or "suspended" (short past the grace period: suspended until paid)."""
    now = now or timezone.now()
    with transaction.atomic():
        child = ChildPanel.objects.select_for_update().get(pk=child_panel_id)
        paid_until = child.paid_until
        if paid_until is None or not _is_due(child, now):
            return "not_due"
        unpaid_suspension = child.suspended_reason == SuspendedReason.UNPAID
        start = max(paid_until, now) if unpaid_suspension else paid_until
        try:
            with transaction.atomic():
                _charge(
                    child=child,
                    kind=ChildPanelCharge.Kind.MONTH,
                    period_start=start,
                    amount=child.monthly_fee,
                )
        except InsufficientFunds:
            grace_over = now >= paid_until + timedelta(days=settings.PANEL_CHILD_PANEL_GRACE_DAYS)
            if grace_over and child.state != S.SUSPENDED:
                child_panel_move(
                    child_panel_id=child.pk, to=S.SUSPENDED, reason=SuspendedReason.UNPAID
                )
                return "suspended"
            return "unpaid"
        child.paid_until = start + PERIOD
        child.save(update_fields=["paid_until"])
        if unpaid_suspension:
            child_panel_move(child_panel_id=child.pk, to=S.ACTIVE)
    return "paid"


def _is_due(child: ChildPanel, now: datetime) -> bool:
    if child.monthly_fee <= ZERO or child.paid_until is None or child.paid_until > now:
        return False
    # An operator's suspension is the operator's to lift: no fee runs up meanwhile.
    return child.state != S.DELETED and child.suspended_reason != SuspendedReason.OPERATOR


def child_panels_bill(*, now: datetime | None = None) -> dict[str, int]:
    """Beat's renewal round: every panel whose paid period has ended, each in its own
    transaction. Returns how many ended in each outcome."""
    now = now or timezone.now()
    due = ChildPanel.objects.filter(monthly_fee__gt=ZERO, paid_until__lte=now).exclude(
        state=S.DELETED
    )
    outcomes: dict[str, int] = {}
    for child_id in due.values_list("pk", flat=True):
        outcome = child_panel_renew(child_panel_id=child_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def child_panel_customer_credit(
    *,
    owner: User,
    child_panel_id: int,
    username: str,
    amount: Decimal,
    created_by: User | None = None,
) -> BalanceTransaction:
    """The owner adds funds to one of his child panel's customers, who paid him directly (the
    child panel has no payment gateway of its own yet). A deposit on the customer's ledger,
    recorded as made by the owner; the owner's own balance is not touched: what his customers
    hold is what he owes them in orders (the admin shows it as exposure). `created_by`: who
    typed it, when not the owner himself (his login or his staff in the panel's own admin).

    Raises InvalidRequest for a panel not his or a name not of that panel."""
    child = ChildPanel.objects.filter(pk=child_panel_id, owner=owner).first()
    if child is None or child.state == S.DELETED:
        raise InvalidRequest()
    with panel_scope(child.pk, currency=child.currency):
        customer = User.objects.with_username(username).first()
    if customer is None:
        raise InvalidRequest(gettext_noop("No customer of this panel has that username."))
    return balance_credit(
        user_id=customer.pk,
        amount=amount,
        kind=BalanceTransaction.Kind.DEPOSIT,
        memo=child.domain,
        created_by=created_by or owner,
    )
