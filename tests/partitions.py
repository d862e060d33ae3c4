"""What the tests of the monthly partitions read of their registry (docs/scaling.md)."""

from datetime import datetime

from django.db import connection
from django.utils import timezone


def first_order_id(period: int) -> int:
    """The first order id of the month `period` (YYYYMM), as the registry recorded it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_id FROM panel_period_start WHERE table_name = 'orders_order' "
            "AND period = %s",
            [period],
        )
        return cursor.fetchone()[0]


def month_start(period: int) -> datetime:
    """Half past midnight on the first day of the month `period`, when beat marks it."""
    year, month = divmod(period, 100)
    return timezone.make_aware(datetime(year, month, 1, 0, 30))  # noqa: DTZ001 - made aware
