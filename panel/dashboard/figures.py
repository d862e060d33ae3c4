"""The dashboard's money figures for a date range, read from the daily rollup.

Definitions (the tests compute the same sums from the orders themselves):
- revenue: what customers paid for orders and product orders placed in the range, net of
  refunds;
- cost: what upstream charged for those that were bought (sent, not canceled);
- profit = revenue − cost; margin = profit / revenue.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from accounts.models import BalanceTransaction, User
from core.money import ZERO
from orders.models import OrderStatus, ProductOrderStatus
from panel.dashboard.hooks import app_hooks
from panel.dashboard.rollup import day_start
from panel.models import DayCustomerFigures, DayFigures, DayServiceFigures
from providers.models import Provider, Service, ServiceRoute

TOP = 10
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Money:
    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        if self.revenue <= ZERO:
            return None
        return (self.profit * HUNDRED / self.revenue).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Ranked:
    """One row of a top list: a label, an optional admin link, its order count and money."""

    label: str
    orders: int
    money: Money
    url_id: int | None = None


@dataclass
class RangeFigures:
    start: date
    end: date

    totals: Money
    orders: int
    by_status: list[tuple[str, int]]
    product_by_status: list[tuple[str, int]]
    per_day: list[tuple[date, Money]]
    top_services: list[Ranked]
    top_customers: list[Ranked]
    by_route: list[Ranked]
    new_customers: int

    @property
    def created_query(self) -> str:
        """The admin order list's date filter for this range (its created_at list filter)."""
        return urlencode(
            {
                "created_at__gte": day_start(self.start).isoformat(),
                "created_at__lt": day_start(self.end + timedelta(days=1)).isoformat(),
            }
        )


def _money(row: Mapping[str, Any]) -> Money:
    return Money(revenue=row["revenue"] or ZERO, cost=row["cost"] or ZERO)


# The stubs' plugin cannot see annotations passed as **_SUMS, so it types the rows without
# "n"; the lines reading it carry a targeted ignore.
_SUMS = {"n": Sum("orders"), "revenue": Sum("revenue"), "cost": Sum("cost")}
_PROFIT = F("revenue") - F("cost")


def _by_status(days: QuerySet[DayFigures], kind: str, statuses: list[str]) -> list[tuple[str, int]]:
    counts = dict(
        days.filter(kind=kind).values("status").annotate(**_SUMS).values_list("status", "n")  # type: ignore[misc]
    )
    return [(status, counts.get(status, 0)) for status in statuses]


def _per_day(days: QuerySet[DayFigures], start: date, end: date) -> list[tuple[date, Money]]:
    rows = {row["day"]: _money(row) for row in days.values("day").annotate(**_SUMS)}
    count = (end - start).days + 1
    return [
        (day, rows.get(day, Money()))
        for day in (start + timedelta(days=offset) for offset in range(count))
    ]


def _top_services(start: date, end: date) -> list[Ranked]:
    rows = list(
        DayServiceFigures.objects.filter(day__gte=start, day__lte=end)
        .values("service_id")
        .annotate(**_SUMS)
        .annotate(profit=_PROFIT)
        .order_by("-profit", "service_id")[:TOP]
    )
    names = {
        s.pk: s.display_name for s in Service.objects.filter(pk__in=[r["service_id"] for r in rows])
    }
    return [
        Ranked(
            f"{r['service_id']} · {names.get(r['service_id'], '?')}",
            r["n"],  # type: ignore[misc]
            _money(r),
            r["service_id"],
        )
        for r in rows
    ]


def _top_customers(start: date, end: date) -> list[Ranked]:
    rows = list(
        DayCustomerFigures.objects.filter(day__gte=start, day__lte=end)
        .values("user_id")
        .annotate(**_SUMS)
        .annotate(profit=_PROFIT)
        .order_by("-profit", "user_id")[:TOP]
    )
    names = dict(
        User.objects.filter(pk__in=[r["user_id"] for r in rows]).values_list("pk", "username")
    )
    return [Ranked(names.get(r["user_id"], "?"), r["n"], _money(r), r["user_id"]) for r in rows]  # type: ignore[misc]


def _by_route(start: date, end: date) -> list[Ranked]:
    """Profit per route (provider and the provider's service id); orders of services without
    routes count under their provider's own service."""
    rows = list(
        DayServiceFigures.objects.filter(day__gte=start, day__lte=end)
        .values("provider_id", "route_id")
        .annotate(**_SUMS)
        .annotate(profit=_PROFIT)
        .order_by("-profit", "provider_id", "route_id")
    )
    providers = dict(Provider.objects.values_list("pk", "name"))
    routes = {
        r.pk: r
        for r in ServiceRoute.objects.filter(
            pk__in=[r["route_id"] for r in rows if r["route_id"]]
        ).select_related("target")
    }
    ranked = []
    for row in rows:
        route = routes.get(row["route_id"])
        label = providers.get(row["provider_id"], "?")
        if route:
            label += " · " + _("route %(service)s → #%(upstream)s") % {
                "service": route.service_id,
                "upstream": route.target.upstream_id,
            }
        else:
            label += " · " + _("own catalog")
        ranked.append(Ranked(label, row["n"], _money(row), row["route_id"] or None))  # type: ignore[misc]
    return ranked


def ledger_deposits(start: date, end: date) -> list[tuple[str, Decimal]]:
    """Deposits in the range from the ledger, by who made them. Used until an app (payments)
    reports deposits per gateway through its dashboard hook (panel.dashboard.hooks)."""
    totals = BalanceTransaction.objects.filter(
        kind=BalanceTransaction.Kind.DEPOSIT,
        user__child_panel__isnull=True,  # a child panel's owner crediting his customers
        created_at__gte=day_start(start),
        created_at__lt=day_start(end + timedelta(days=1)),
    ).aggregate(
        admin=Sum("amount", filter=Q(created_by__isnull=False), default=ZERO),
        other=Sum("amount", filter=Q(created_by__isnull=True), default=ZERO),
    )
    return [
        (str(_("Added by an admin")), totals["admin"]),
        (str(_("Other deposits")), totals["other"]),
    ]


def deposits_by_gateway(start: date, end: date) -> list[tuple[str, Decimal]]:
    """Deposits credited in the range per gateway, from the apps that report them
    (panel.dashboard.hooks); the ledger's view until one does."""
    hooks = app_hooks("deposits_by_gateway")
    if not hooks:
        return ledger_deposits(start, end)
    window = (day_start(start), day_start(end + timedelta(days=1)))
    return [row for hook in hooks for row in hook(*window)]


def range_figures(*, start: date, end: date) -> RangeFigures:
    days = DayFigures.objects.filter(day__gte=start, day__lte=end)
    totals = days.aggregate(**_SUMS)
    return RangeFigures(
        start=start,
        end=end,
        totals=_money(totals),
        orders=days.filter(kind=DayFigures.Kind.ORDER).aggregate(n=Sum("orders"))["n"] or 0,
        by_status=_by_status(days, DayFigures.Kind.ORDER, list(OrderStatus.values)),
        product_by_status=_by_status(
            days, DayFigures.Kind.PRODUCT, list(ProductOrderStatus.values)
        ),
        per_day=_per_day(days, start, end),
        top_services=_top_services(start, end),
        top_customers=_top_customers(start, end),
        by_route=_by_route(start, end),
        new_customers=User.objects.filter(
            is_staff=False,
            child_panel__isnull=True,
            date_joined__gte=day_start(start),
            date_joined__lt=day_start(end + timedelta(days=1)),
        ).count(),
    )
