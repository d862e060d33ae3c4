"""One provider's day reconciled: the figures, the per-order check against the provider's
`status` answers, the balance check between the day's snapshots, the flags and the one alert.
What each figure means is docs/reconciliation.md; this module computes exactly that."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import PanelError
from core.money import ZERO, currency_places, quantize_money
from providers.client import ItemError
from providers.errors import ProviderError
from providers.models import Provider
from providers.services import provider_client
from reconciliation.alerts import provider_day_alert
from reconciliation.models import (
    BalanceSnapshot,
    Mismatch,
    MismatchKind,
    MismatchStatus,
    ProviderDay,
)
from reconciliation.selectors import (
    Bought,
    bought,
    day_bounds,
    final_orders_between,
    finished_between,
    in_flight_at,
    outcome_unknown_between,
    sent_between,
)
from reconciliation.services.resolutions import history_step
from reconciliation.services.snapshots import balance_snapshots_take


class ProviderUnreachable(PanelError):
    """The provider did not answer `status`: the day stays as it was, to be checked later."""

    default_message = gettext_noop("The provider did not answer: the day was not checked.")


STATUS_BATCH = 100  # ids per `status` call, as polling asks (docs/protocol.md)
HUNDRED = Decimal(100)


@dataclass
class _Found:
    """Per-order differences of a day: (order, kind, expected, reported) and their sum."""

    flags: list[tuple[Bought, str, Decimal]] = field(default_factory=list)
    difference: Decimal = ZERO
    checked: int = 0
    unanswered: int = 0


def refund_lag() -> timedelta:
    """How long after the provider refunds the panel may take to see it: the longest wait
    between two polls of one order."""
    return timedelta(seconds=settings.PANEL_POLL_MAX_INTERVAL_SECONDS)


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_places(currency or "USD"))


def order_tolerance(price: Decimal, currency: str) -> Decimal:
    share = price * settings.PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT / HUNDRED
    return max(quantize_money(share), _unit(currency))


def _check_orders(provider: Provider, start: datetime, end: datetime, currency: str) -> _Found:
    """Ask the provider what it charges now for each order the panel saw finish in the window
    and compare with what it is expected to keep (docs/reconciliation.md, "Per order")."""
    found = _Found()
    rows = list(final_orders_between(provider, start, end))
    if not rows:
        return found
    client = provider_client(provider)
    for first in range(0, len(rows), STATUS_BATCH):
        chunk = rows[first : first + STATUS_BATCH]
        try:
            answers = client.statuses([row.upstream_id for row in chunk])
        except ProviderError as exc:
            # Not a figure: a day checked while its provider is down would read as every
            # order unanswered and the balance unexplained. Nothing is written; try later.
            raise ProviderUnreachable(exc.message) from exc
        for row in chunk:
            answer = answers.get(row.upstream_id)
            if answer is None or isinstance(answer, ItemError) or answer.charge is None:
                found.unanswered += 1
                continue
            found.checked += 1
            difference = answer.charge - row.kept
            found.difference += difference
            if abs(difference) > order_tolerance(row.price, currency):
                found.flags.append((row, _order_kind(row, difference), answer.charge))
    return found


def _order_kind(row: Bought, difference: Decimal) -> str:
    if difference < ZERO:
        return MismatchKind.REFUND_KEPT
    return MismatchKind.REFUND_MISSING if row.refunded > ZERO else MismatchKind.OVERCHARGED


def _total(items: object, attribute: str) -> Decimal:
    return sum((getattr(item, attribute) for item in items), ZERO)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    opening: BalanceSnapshot | None
    closing: BalanceSnapshot | None

    @property
    def has_balances(self) -> bool:
        return bool(self.opening and self.opening.is_read and self.closing and self.closing.is_read)


def _window(provider: Provider, day: date) -> _Window:
    snapshots = {
        snapshot.day: snapshot
        for snapshot in BalanceSnapshot.objects.filter(
            provider=provider, day__in=[day, day + timedelta(days=1)]
        )
    }
    opening, closing = snapshots.get(day), snapshots.get(day + timedelta(days=1))
    start, end = day_bounds(day)
    window = _Window(start, end, opening, closing)
    if window.has_balances:
        assert opening is not None
        assert closing is not None
        return _Window(opening.requested_at, closing.requested_at, opening, closing)
    return window


def _slack(provider: Provider, window: _Window) -> tuple[Decimal, Decimal]:
    """(more, less): how much more or less the provider may have taken over the window than
    its figures say, from what its edges leave open (docs/reconciliation.md)."""
    assert window.opening is not None
    assert window.closing is not None
    lag = refund_lag()
    opening, closing = window.opening, window.closing
    opened = opening.answered_at or opening.requested_at
    closed = closing.answered_at or closing.requested_at
    # Counted today, maybe inside the opening balance already: the provider took less today.
    less = _total(bought(provider, in_flight_at(opening.requested_at, opened)), "price")
    # Seen refunded just after the close: the provider may have given it back today.
    late = finished_between(closing.requested_at, closing.requested_at + lag)
    less += _total(bought(provider, late), "refund_expected")
    # Counted tomorrow, maybe inside the closing balance already: more taken today.
    more = _total(bought(provider, in_flight_at(closing.requested_at, closed)), "price")
    # Seen refunded just after the opening: the provider may have given it back yesterday.
    early = finished_between(opening.requested_at, opening.requested_at + lag)
    more += _total(bought(provider, early), "refund_expected")
    # Adds nobody knows landed: the provider may have taken their price.
    unknown = outcome_unknown_between(window.start, window.end)
    more += _total(bought(provider, unknown), "price")
    return more, less


def provider_day_reconcile(*, provider: Provider, day: date) -> ProviderDay:
    """Reconcile `day` (TIME_ZONE) for `provider`: recompute its figures, flag what does not
    match (a re-run updates the open flags it finds again) and alert once per day. Calls the
    provider's `status`; an order it does not answer for is counted, not flagged. Raises
    ProviderUnreachable, having written nothing, when a `status` call fails."""
    window = _window(provider, day)
    currency = provider.balance_currency or provider.currency
    if window.opening is not None and window.opening.currency:
        currency = window.opening.currency
    sent = list(bought(provider, sent_between(window.start, window.end)))
    finished = list(bought(provider, finished_between(window.start, window.end)))
    found = _check_orders(provider, window.start, window.end, currency)
    charges = _total(sent, "price")
    values: dict[str, object] = {
        "currency": currency,
        "starts_at": window.start,
        "ends_at": window.end,
        "charges_expected": charges,
        "refunds_expected": _total(finished, "refund_expected"),
        "orders_difference": found.difference,
        "orders_sent": len(sent),
        "orders_checked": found.checked,
        "orders_unanswered": found.unanswered,
        "reconciled_at": timezone.now(),
        "opening_balance": None,
        "closing_balance": None,
        "balance_difference": None,
        "slack_more": ZERO,
        "slack_less": ZERO,
        "tolerance": max(
            quantize_money(charges * settings.PANEL_RECONCILE_BALANCE_TOLERANCE_PERCENT / HUNDRED),
            _unit(currency),
        ),
    }
    if window.has_balances:
        assert window.opening is not None
        assert window.closing is not None
        assert window.opening.balance is not None
        assert window.closing.balance is not None
        spent = window.opening.balance - window.closing.balance
        explained = charges - values["refunds_expected"] + found.difference  # type: ignore[operator]
        more, less = _slack(provider, window)
        values.update(
            opening_balance=window.opening.balance,
            closing_balance=window.closing.balance,
            balance_difference=spent - explained,
            slack_more=more,
            slack_less=less,
        )
    with transaction.atomic():
        provider_day, _ = ProviderDay.objects.update_or_create(
            provider=provider, day=day, defaults=values
        )
        _flag_orders(provider_day, found)
        _flag_balance(provider_day)
        provider_day_alert(provider_day=provider_day)
    return provider_day


def _upsert(provider_day: ProviderDay, kind: str, order_id: int | None, figures: dict) -> None:
    """A flag found (again): created once, its figures refreshed while nobody took it up."""
    same = {"order_id": order_id} if order_id is not None else {"provider_day": provider_day}
    flag = Mismatch.objects.filter(kind=kind, **same).first()
    if flag is None:
        Mismatch.objects.create(provider_day=provider_day, kind=kind, order_id=order_id, **figures)
    elif flag.status == MismatchStatus.OPEN:
        Mismatch.objects.filter(pk=flag.pk).update(provider_day=provider_day, **figures)


def _settle_if_matching(flags: object) -> None:
    """Open flags a re-run no longer finds: the provider put its figures right."""
    for flag in flags:  # type: ignore[attr-defined]
        flag.status = MismatchStatus.RECOVERED
        flag.settled_at = timezone.now()
        flag.history = [
            *flag.history,
            history_step(status=MismatchStatus.RECOVERED, by=None, note="", is_automatic=True),
        ]
        flag.save(update_fields=["status", "settled_at", "history"])


def _flag_orders(provider_day: ProviderDay, found: _Found) -> None:
    flagged = set()
    for row, kind, reported in found.flags:
        flagged.add((row.pk, kind))
        figures = {"full_price": row.price, "expected": row.kept, "reported": reported}
        _upsert(provider_day, kind, row.pk, figures)
    stale = [
        flag
        for flag in provider_day.mismatches.filter(order__isnull=False, status=MismatchStatus.OPEN)
        if (flag.order_id, flag.kind) not in flagged
    ]
    _settle_if_matching(stale)


def _flag_balance(provider_day: ProviderDay) -> None:
    difference = provider_day.balance_difference
    if difference is None:
        return
    allowed_more = provider_day.slack_more + provider_day.tolerance
    allowed_less = provider_day.slack_less + provider_day.tolerance
    spent = provider_day.balance_spent
    assert spent is not None  # a balance difference needs both balances
    if -allowed_less <= difference <= allowed_more:
        _settle_if_matching(
            provider_day.mismatches.filter(kind=MismatchKind.BALANCE, status=MismatchStatus.OPEN)
        )
        return
    figures = {
        "full_price": provider_day.charges_expected,
        "expected": spent - difference,
        "reported": spent,
    }
    _upsert(provider_day, MismatchKind.BALANCE, None, figures)


def _is_due(provider: Provider, day: date, now: datetime) -> bool:
    """Reconciled once its closing edge was taken (read or not: the orders are checked either
    way) and is a refund lag behind, and again when its balance check became possible since (a
    snapshot read late). Days before the provider's first snapshot are left alone."""
    window = _window(provider, day)
    if window.closing is None or now < window.end + refund_lag():
        return False
    done = ProviderDay.objects.filter(provider=provider, day=day).first()
    return done is None or (window.has_balances and not done.has_balance_check)


def reconciliation_due(*, days_back: int = 7) -> list[ProviderDay]:
    """The beat's run: today's snapshot where it is missing, then every recent day that is due
    (an outage of the beat catches up on the days it missed)."""
    now = timezone.now()
    today = timezone.localdate(now)
    balance_snapshots_take(day=today)
    reconciled = []
    for provider in Provider.objects.filter(is_enabled=True).order_by("pk"):
        for back in range(days_back, 0, -1):
            day = today - timedelta(days=back)
            if not _is_due(provider, day, now):
                continue
            try:
                reconciled.append(provider_day_reconcile(provider=provider, day=day))
            except ProviderUnreachable:
                break  # this provider's days wait for the next run; the others go on
    return reconciled
