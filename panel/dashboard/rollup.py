"""The dashboard's daily rollup: orders aggregated per day (in TIME_ZONE), filled by beat.

Each run redoes only the days whose orders changed since the last run (every write to an
order moves its `updated_at`), so a run after the first costs about one day's orders.
A day is always rebuilt whole (delete, then insert its aggregates) inside one transaction,
which keeps the rollup equal to the orders it was read from.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import ngettext

from core.money import ZERO
from orders.models import DispatchState, Order, OrderStatus, ProductOrder, ProductOrderStatus
from panel.models import DayCustomerFigures, DayFigures, DayServiceFigures, RollupState
from providers.models import ProviderCall

# Writes that were in flight when the last run read the orders commit a little later with an
# earlier `updated_at`: re-reading this much before the watermark picks them up.
OVERLAP = timedelta(minutes=10)
PROVIDER_CALLS_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class RollupSummary:
    days: int
    rows: int

    def __str__(self) -> str:
        # In the reader's language: dashboard_rollup and seed_demo print it.
        return ngettext(
            "%(days)s day rebuilt, rollup rows: %(rows)s",
            "%(days)s days rebuilt, rollup rows: %(rows)s",
            self.days,
        ) % {"days": self.days, "rows": self.rows}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _with_day(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(day=TruncDate("created_at", tzinfo=timezone.get_default_timezone()))


def _money_sums(canceled: str) -> dict[str, object]:
    """Revenue is charges net of refunds; cost counts only what was bought: sent upstream and
    not canceled there (a canceled order costs the panel nothing)."""
    return {
        "orders": Count("id"),
        "revenue": Sum(F("charge") - F("refunded"), default=ZERO),
        "cost": Sum(
            "cost",
            filter=Q(dispatch_state=DispatchState.SENT) & ~Q(status=canceled),
            default=ZERO,
        ),
    }


def placed_in_days(model: type[Order] | type[ProductOrder], first: date, last: date) -> QuerySet:
    # The parent's own customers' orders only: a child panel's order is the child owner's
    # revenue, and the parent counts it once, as the owner's order it bought it with
    # (docs/child-panels.md).
    rows = model.objects.filter(
        created_at__gte=day_start(first),
        created_at__lt=day_start(last + timedelta(days=1)),
        user__child_panel__isnull=True,
    )
    return _with_day(rows)


def _rebuild(first: date, last: date) -> int:
    DayFigures.objects.filter(day__gte=first, day__lte=last).delete()
    DayServiceFigures.objects.filter(day__gte=first, day__lte=last).delete()
    DayCustomerFigures.objects.filter(day__gte=first, day__lte=last).delete()
    orders = placed_in_days(Order, first, last)
    products = placed_in_days(ProductOrder, first, last)
    order_sums = _money_sums(OrderStatus.CANCELED)
    product_sums = _money_sums(ProductOrderStatus.CANCELED)
    day_rows = [
        DayFigures(kind=kind, **row)
        for kind, rows in (
            (DayFigures.Kind.ORDER, orders.values("day", "status").annotate(**order_sums)),
            (DayFigures.Kind.PRODUCT, products.values("day", "status").annotate(**product_sums)),
        )
        for row in rows
    ]
    service_rows = [
        DayServiceFigures(
            day=row["day"],
            service_id=row["service_id"],
            provider_id=row["provider_id"],
            route_id=row["route_id"] or 0,
            orders=row["orders"],
            revenue=row["revenue"],
            cost=row["cost"],
        )
        for row in orders.values("day", "service_id", "provider_id", "route_id").annotate(
            **order_sums
        )
    ]
    customers: dict[tuple[date, int], list] = defaultdict(lambda: [0, ZERO, ZERO])
    for rows in (
        orders.values("day", "user_id").annotate(**order_sums),
        products.values("day", "user_id").annotate(**product_sums),
    ):
        for row in rows:
            totals = customers[(row["day"], row["user_id"])]
            totals[0] += row["orders"]
            totals[1] += row["revenue"]
            totals[2] += row["cost"]
    customer_rows = [
        DayCustomerFigures(day=day, user_id=user_id, orders=n, revenue=revenue, cost=cost)
        for (day, user_id), (n, revenue, cost) in customers.items()
    ]
    DayFigures.objects.bulk_create(day_rows, batch_size=2000)
    DayServiceFigures.objects.bulk_create(service_rows, batch_size=2000)
    DayCustomerFigures.objects.bulk_create(customer_rows, batch_size=2000)
    return len(day_rows) + len(service_rows) + len(customer_rows)


def days_changed_since(model: type[Order] | type[ProductOrder], since: datetime | None) -> QuerySet:
    """The days (of placing) of the orders written since `since`: for orders, a bitmap scan of
    `order_updated_brin` that skips every month no write reached (docs/performance.md)."""
    rows = model.objects.all() if since is None else model.objects.filter(updated_at__gte=since)
    return _with_day(rows).order_by().values_list("day", flat=True).distinct()


def _touched_days(since: datetime | None) -> set[date]:
    days: set[date] = set()
    for model in (Order, ProductOrder):
        days.update(days_changed_since(model, since))
    return days


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs: one range scan per run."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def dashboard_rollup(*, full: bool = False) -> RollupSummary:
    """Bring the rollup up to date: the days whose orders changed since the last run (all days
    the first time, or with `full`). Two runs take turns on the state row."""
    now = timezone.now()
    with transaction.atomic():
        RollupState.objects.get_or_create(pk=1)
        state = RollupState.objects.select_for_update().get(pk=1)
        since = None if full or state.rolled_until is None else state.rolled_until - OVERLAP
        days = _touched_days(since)
        rows = sum(_rebuild(first, last) for first, last in _runs(days))
        state.rolled_until = now
        state.save(update_fields=["rolled_until"])
    ProviderCall.objects.filter(created_at__lt=now - PROVIDER_CALLS_KEPT).delete()
    return RollupSummary(days=len(days), rows=rows)


def rolled_until() -> datetime | None:
    return RollupState.objects.filter(pk=1).values_list("rolled_until", flat=True).first()
