"""The scorecard: how each service and each of its routes did over the last PANEL_SCORECARD_DAYS.

From real orders placed in the window: the median and 90th percentile of the time from placing
to the start (the first status event leaving Pending) and to Completed (per 1,000 units; per
order for package services), the partial rate (Partial among Completed and Partial) and the
refill success rate (Completed among finished refills). A figure needs PANEL_SCORECARD_MIN_ORDERS
orders (refills) behind it, or it stays empty.

Computed by beat with one aggregate query (core.db.percentiles) plus one count of refills, and
stored in two small tables (providers.ServiceScore, providers.RouteScore) that the services
page, the order form, the admin and routing read: no page computes it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core.db.percentiles import TimesQuery, TimesRow, order_time_percentiles
from orders.models import Order, OrderEvent, OrderStatus, Refill, RefillStatus
from orders.selectors import REFILLED_BY
from providers.models import (
    PACKAGE_TYPES,
    RouteScore,
    Scorecard,
    Service,
    ServiceRoute,
    ServiceScore,
)

HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class RefillCounts:
    finished: int = 0
    completed: int = 0


@dataclass(frozen=True)
class ScoreCounts:
    services: int
    routes: int


def refill_success_counts(*, since: datetime) -> dict[tuple[int, int | None], RefillCounts]:
    """Refills that finished since `since`: per (service id, None) and per (service id, route
    id), counted by the same rule as the dashboard's rates (orders.selectors.REFILLED_BY: the
    customer was refilled, by the provider or by the panel's replacement). One query."""
    _, refilled = REFILLED_BY["service"]
    rows = (
        Refill.objects.filter(finished_at__gte=since, status__in=RefillStatus.finals())
        .values("order__service_id", "order__route_id")
        .annotate(finished=Count("id"), completed=Count("id", filter=refilled))
    )
    totals: dict[tuple[int, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        keys: list[tuple[int, int | None]] = [(row["order__service_id"], None)]
        if row["order__route_id"] is not None:
            keys.append((row["order__service_id"], row["order__route_id"]))
        for key in keys:
            totals[key][0] += row["finished"]
            totals[key][1] += row["completed"]
    return {key: RefillCounts(finished, completed) for key, (finished, completed) in totals.items()}


def _seconds(value: float | None, sample: int, minimum: int) -> int | None:
    return None if value is None or sample < minimum else round(value)


def _percent(part: int, whole: int, minimum: int) -> Decimal | None:
    if whole < minimum or whole == 0:
        return None
    return (HUNDRED * part / whole).quantize(PERCENT)


def _figures(
    row: TimesRow | None, refills: RefillCounts, *, minimum: int, now: datetime
) -> dict[str, object]:
    refill_figures: dict[str, object] = {
        "refills": refills.finished,
        "refill_success_percent": _percent(refills.completed, refills.finished, minimum),
        "computed_at": now,
    }
    if row is None:
        return refill_figures
    return {
        "orders": row.orders,
        "started": row.started,
        "completed": row.completed,
        "partial": row.partial,
        "start_p50_seconds": _seconds(row.start_p50, row.started, minimum),
        "start_p90_seconds": _seconds(row.start_p90, row.started, minimum),
        "complete_p50_seconds": _seconds(row.complete_p50, row.completed, minimum),
        "complete_p90_seconds": _seconds(row.complete_p90, row.completed, minimum),
        "partial_percent": _percent(row.partial, row.completed + row.partial, minimum),
        **refill_figures,
    }


def service_scores_refresh(*, now: datetime | None = None) -> ScoreCounts:
    """Recompute every service's and route's scorecard and replace the stored one in one
    transaction (readers see the old or the new, never half). Safe to run late or twice."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.PANEL_SCORECARD_DAYS)
    minimum = settings.PANEL_SCORECARD_MIN_ORDERS
    times = order_time_percentiles(
        TimesQuery(
            orders=Order,
            events=OrderEvent,
            services=Service,
            since=since,
            package_types=PACKAGE_TYPES,
            pending=OrderStatus.PENDING,
            completed=OrderStatus.COMPLETED,
            partial=OrderStatus.PARTIAL,
            canceled=OrderStatus.CANCELED,
        )
    )
    by_key = {(row.service_id, row.route_id): row for row in times}
    refills = refill_success_counts(since=since)
    scores: list[Scorecard] = []
    for key in by_key.keys() | refills.keys():
        service_id, route_id = key
        values = _figures(
            by_key.get(key), refills.get(key, RefillCounts()), minimum=minimum, now=now
        )
        if route_id is None:
            scores.append(ServiceScore(service_id=service_id, **values))
        else:
            scores.append(RouteScore(route_id=route_id, **values))
    services = [s for s in scores if isinstance(s, ServiceScore)]
    routes = [s for s in scores if isinstance(s, RouteScore)]
    with transaction.atomic():
        # A route deleted since the read keeps no scorecard: its orders point nowhere now.
        kept = set(
            ServiceRoute.objects.filter(pk__in=[s.route_id for s in routes]).values_list(
                "pk", flat=True
            )
        )
        routes = [s for s in routes if s.route_id in kept]
        ServiceScore.objects.all().delete()
        RouteScore.objects.all().delete()
        ServiceScore.objects.bulk_create(services)
        RouteScore.objects.bulk_create(routes)
    return ScoreCounts(services=len(services), routes=len(routes))
