"""Average delivery time per service: the mean time from placing to Completed of its last 10
completed orders, scaled to 1,000 units (package services: per package, unscaled). Partial and
canceled orders don't count; with fewer than 3 completed orders there is no figure.

Computed in bulk by a beat job and stored on the service, so no page computes it per row.
"""

from collections import defaultdict
from datetime import datetime
from typing import cast

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.db.bulk import bulk_update_values
from orders.models import Order, OrderStatus
from providers.models import PACKAGE_TYPES, Service

LAST_ORDERS = 10
MIN_ORDERS = 3
UNITS = 1000


def _seconds(created_at: datetime, finished_at: datetime, quantity: int, is_package: bool) -> float:
    elapsed = max((finished_at - created_at).total_seconds(), 0.0)
    return elapsed if is_package else elapsed * UNITS / max(quantity, 1)


def service_average_times(service_ids: list[int] | None) -> dict[int, int | None]:
    """service id → average seconds (None: not enough data), for the given services or, with
    None, every service that has a completed order. One query."""
    completed = Order.objects.filter(status=OrderStatus.COMPLETED, finished_at__isnull=False)
    if service_ids is not None:
        completed = completed.filter(service_id__in=service_ids)
    rows = (
        completed.annotate(
            recent=Window(
                RowNumber(), partition_by=F("service_id"), order_by=F("finished_at").desc()
            )
        )
        .filter(recent__lte=LAST_ORDERS)
        .values_list("service_id", "created_at", "finished_at", "total_quantity", "service__type")
    )
    samples: dict[int, list[float]] = defaultdict(list)
    for service_id, created_at, finished_at, quantity, service_type in rows:
        samples[service_id].append(
            # `completed` holds only rows with a finish time.
            _seconds(
                created_at, cast(datetime, finished_at), quantity, service_type in PACKAGE_TYPES
            )
        )
    averages: dict[int, int | None] = dict.fromkeys(service_ids or [])
    for service_id, values in samples.items():
        averages[service_id] = (
            round(sum(values) / len(values)) if len(values) >= MIN_ORDERS else None
        )
    return averages


def service_delivery_times_refresh(*, since: datetime | None = None) -> int:
    """Recompute the services with an order completed since `since` (all services with None)
    and store what changed, moving `updated_at` so cached price lists are rebuilt. Returns how
    many services changed."""
    service_ids = None
    if since is not None:
        service_ids = list(
            Order.objects.filter(status=OrderStatus.COMPLETED, finished_at__gte=since)
            .values_list("service_id", flat=True)
            .distinct()
        )
        if not service_ids:
            return 0
    averages = service_average_times(service_ids)
    current = dict(
        Service.objects.filter(pk__in=list(averages)).values_list("pk", "average_time_seconds")
    )
    now = timezone.now()
    changed = {
        pk: value for pk, value in averages.items() if pk in current and current[pk] != value
    }
    bulk_update_values(
        Service,
        {
            pk: {"average_time_seconds": v, "updated_at": now}
            for pk, v in changed.items()
            if v is not None
        },
    )
    cleared = [pk for pk, value in changed.items() if value is None]
    if cleared:
        Service.objects.filter(pk__in=cleared).update(average_time_seconds=None, updated_at=now)
    return len(changed)
