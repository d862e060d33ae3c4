"""The reads behind a provider day's figures (docs/reconciliation.md, "What each figure means").

Amounts are in the provider's currency. An order's *price* is what the provider asks for all of
it (its rate when placed × units, or the flat rate of a package); the provider is *expected to
keep* the share of that price the panel kept of the customer's charge: all of it when the
customer paid in full, none when the panel refunded everything, the same share in between."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.money import ZERO, quantize_money
from orders.lifecycle.refunds import figures_of_order, figures_of_product_order
from orders.models import DispatchState, Order, OrderStatus, ProductOrder, ProductOrderStatus
from providers.models import Provider
from reconciliation.models import BalanceSnapshot, Mismatch, ProviderDay

_ORDER_FIELDS = (
    "id",
    "upstream_id",
    "charge",
    "refunded",
    "upstream_rate",
    "total_quantity",
    "details",
    "service__type",
    "status",
)
_PRODUCT_FIELDS = ("id", "upstream_id", "charge", "refunded", "upstream_rate", "quantity")


@dataclass(frozen=True)
class Bought:
    """One order as the reconciliation sees it."""

    pk: int
    upstream_id: str
    price: Decimal
    kept: Decimal  # what the provider is expected to keep of the price
    refunded: Decimal  # what the panel gave back to the customer (panel currency)
    is_product: bool = False

    @property
    def refund_expected(self) -> Decimal:
        return self.price - self.kept


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight in TIME_ZONE: the calendar day the snapshots stand for."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def _kept(price: Decimal, charge: Decimal, refunded: Decimal) -> Decimal:
    if charge <= ZERO or refunded <= ZERO:
        return price
    return quantize_money(price * (charge - refunded) / charge)


def _order(values: dict) -> Bought:
    price = quantize_money(figures_of_order(values).upstream_expected)
    return Bought(
        pk=values["id"],
        upstream_id=values["upstream_id"] or "",
        price=price,
        kept=_kept(price, values["charge"], values["refunded"]),
        refunded=values["refunded"],
    )


def _product_order(values: dict) -> Bought:
    price = quantize_money(figures_of_product_order(values).upstream_expected)
    return Bought(
        pk=values["id"],
        upstream_id=values["upstream_id"] or "",
        price=price,
        kept=_kept(price, values["charge"], values["refunded"]),
        refunded=values["refunded"],
        is_product=True,
    )


def _orders(provider: Provider, only: Q) -> Iterator[Bought]:
    rows = Order.objects.filter(only, provider=provider).order_by("id")
    for values in rows.values(*_ORDER_FIELDS).iterator(chunk_size=2000):
        yield _order(values)


def _product_orders(provider: Provider, only: Q) -> Iterator[Bought]:
    rows = ProductOrder.objects.filter(only, provider=provider).order_by("id")
    for values in rows.values(*_PRODUCT_FIELDS).iterator(chunk_size=2000):
        yield _product_order(values)


def bought(provider: Provider, only: Q) -> Iterator[Bought]:
    """Orders and product orders of `provider` matching `only` (fields both kinds have)."""
    yield from _orders(provider, only)
    yield from _product_orders(provider, only)


def sent_between(start: datetime, end: datetime) -> Q:
    """Bought upstream in [start, end): the provider took the price then."""
    return Q(upstream_id__isnull=False, sent_at__gte=start, sent_at__lt=end)


def finished_between(start: datetime, end: datetime) -> Q:
    """Seen final by the panel in [start, end): the provider's refund, if any, came by then."""
    finals = {*OrderStatus.finals(), *ProductOrderStatus.finals()}
    return Q(
        upstream_id__isnull=False,
        finished_at__gte=start,
        finished_at__lt=end,
        status__in=finals,
    )


def in_flight_at(requested_at: datetime, answered_at: datetime) -> Q:
    """Adds that may have landed on either side of a balance read: sent after the read was
    asked for, but started before its answer came."""
    return Q(
        upstream_id__isnull=False,
        sent_at__gte=requested_at,
        sending_started_at__lt=answered_at,
    )


def outcome_unknown_between(start: datetime, end: datetime) -> Q:
    """Adds started in [start, end) whose outcome nobody knows (in review without an upstream
    id): the provider may have taken their price."""
    return Q(
        upstream_id__isnull=True,
        dispatch_state=DispatchState.NEEDS_REVIEW,
        sending_started_at__gte=start,
        sending_started_at__lt=end,
    )


def final_orders_between(provider: Provider, start: datetime, end: datetime) -> Iterator[Bought]:
    """The orders whose charge is checked against the provider's `status` answer."""
    return _orders(provider, finished_between(start, end))


def mismatches_of_day(provider_day: ProviderDay) -> QuerySet[Mismatch]:
    return provider_day.mismatches.select_related("order", "settled_by").order_by("kind", "id")


@dataclass(frozen=True)
class Figure:
    """The orders behind one figure of a day's page: `code` names it (the template words it),
    `side` says how it counts ("charges", "refunds", "more", "less")."""

    code: str
    side: str
    column: str  # "price" or "refund_expected"
    rows: list[Bought]
    count: int
    total: Decimal


def _figure(code: str, side: str, column: str, items: Iterator[Bought], limit: int) -> Figure:
    rows = [item for item in items if getattr(item, column) != ZERO]
    total = sum((getattr(item, column) for item in rows), ZERO)
    return Figure(code, side, column, rows[:limit], len(rows), total)


def figure_orders(provider_day: ProviderDay, lag: timedelta, limit: int) -> list[Figure]:
    """The orders behind each figure of `provider_day`, as the reconciliation counted them
    (reconciliation/services/days.py uses the same filters)."""
    provider, start, end = provider_day.provider, provider_day.starts_at, provider_day.ends_at
    figures = [
        _figure("sent", "charges", "price", bought(provider, sent_between(start, end)), limit),
        _figure(
            "refunded",
            "refunds",
            "refund_expected",
            bought(provider, finished_between(start, end)),
            limit,
        ),
    ]
    if not provider_day.has_balance_check:
        return figures
    snapshots = {
        snapshot.day: snapshot
        for snapshot in BalanceSnapshot.objects.filter(
            provider=provider, day__in=[provider_day.day, provider_day.day + timedelta(days=1)]
        )
    }
    opening = snapshots[provider_day.day]
    closing = snapshots[provider_day.day + timedelta(days=1)]
    opened = opening.answered_at or opening.requested_at
    closed = closing.answered_at or closing.requested_at
    edges = [
        ("opening_in_flight", "less", "price", in_flight_at(start, opened)),
        ("closing_late_refunds", "less", "refund_expected", finished_between(end, end + lag)),
        ("closing_in_flight", "more", "price", in_flight_at(end, closed)),
        ("opening_late_refunds", "more", "refund_expected", finished_between(start, start + lag)),
        ("outcome_unknown", "more", "price", outcome_unknown_between(start, end)),
    ]
    for code, side, column, only in edges:
        figures.append(_figure(code, side, column, bought(provider, only), limit))
    return figures
