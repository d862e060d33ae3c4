"""The scorecard's one aggregate: percentiles of orders' times per service and per route.

PostgreSQL's `percentile_cont` and `GROUPING SETS` give every service's and every route's
figures in one pass over the window's orders, where Python would have to read every row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from core.db.rows import table


@dataclass(frozen=True)
class TimesRow:
    """One service's figures (route_id None) or one route's."""

    service_id: int
    route_id: int | None
    orders: int
    started: int
    completed: int
    partial: int
    start_p50: float | None
    start_p90: float | None
    complete_p50: float | None
    complete_p90: float | None


@dataclass(frozen=True)
class TimesQuery:
    """What the statement reads: the tables and the spellings of the states it counts."""

    orders: type[Model]
    events: type[Model]
    services: type[Model]
    since: datetime
    package_types: Iterable[str]
    pending: str
    completed: str
    partial: str
    canceled: str


# An order started when its first status event left Pending for anything but Canceled; its
# completion time is scaled to 1,000 units (package services: per order), the unit of the
# routing target. Canceled orders count nowhere: what they say is about the provider's stock
# or the customer, and the refund already says it.
_SQL = """
SELECT f.service_id, f.route_id, GROUPING(f.route_id) = 1 AS per_service,
       COUNT(*), COUNT(st.started_at),
       COUNT(*) FILTER (WHERE f.status = %(completed)s),
       COUNT(*) FILTER (WHERE f.status = %(partial)s),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY GREATEST(EXTRACT(EPOCH FROM st.started_at - f.created_at), 0)),
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY GREATEST(EXTRACT(EPOCH FROM st.started_at - f.created_at), 0)),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY GREATEST(EXTRACT(EPOCH FROM f.finished_at - f.created_at), 0) * f.scale)
           FILTER (WHERE f.status = %(completed)s),
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY GREATEST(EXTRACT(EPOCH FROM f.finished_at - f.created_at), 0) * f.scale)
           FILTER (WHERE f.status = %(completed)s)
FROM (
    SELECT o.id, o.service_id, o.route_id, o.status, o.created_at, o.finished_at,
           CASE WHEN s.type = ANY(%(packages)s) THEN 1.0
                ELSE 1000.0 / GREATEST(o.total_quantity, 1) END AS scale
    FROM {orders} o JOIN {services} s ON s.id = o.service_id
    WHERE o.created_at >= %(since)s AND o.status IN (%(completed)s, %(partial)s)
      AND o.finished_at IS NOT NULL
) f
-- Per order through the events' order index: bounded by the window, never by all history.
LEFT JOIN LATERAL (
    SELECT MIN(e.created_at) AS started_at FROM {events} e
    WHERE e.order_id = f.id AND e.field = 'status' AND e.old_value = %(pending)s
      AND e.new_value <> %(canceled)s
) st ON true
GROUP BY GROUPING SETS ((f.service_id), (f.service_id, f.route_id))
"""


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def order_time_percentiles(query: TimesQuery) -> list[TimesRow]:
    """Every service's row and every route's row (orders that took no route make none) of the
    orders placed since `query.since` and finished Completed or Partial. One statement."""
    sql = _SQL.format(
        orders=table(query.orders), events=table(query.events), services=table(query.services)
    )
    params: dict[str, Any] = {
        "packages": list(query.package_types),
        "since": query.since,
        "pending": query.pending,
        "completed": query.completed,
        "partial": query.partial,
        "canceled": query.canceled,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # A month of orders costs the plan past jit_above_cost, and compiling this many
        # expressions took far longer than running them (docs/performance.md, the scorecard).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        TimesRow(
            service_id=service_id,
            route_id=None if per_service else route_id,
            orders=orders,
            started=started,
            completed=completed,
            partial=partial,
            start_p50=_number(s50),
            start_p90=_number(s90),
            complete_p50=_number(c50),
            complete_p90=_number(c90),
        )
        for (
            service_id,
            route_id,
            per_service,
            orders,
            started,
            completed,
            partial,
            s50,
            s90,
            c50,
            c90,
        ) in rows
        if per_service or route_id is not None
    ]
