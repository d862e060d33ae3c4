"""What the tests of the monthly partitions read of their registry (docs/scaling.md)."""

from django.db import connection


def first_order_id(period: int) -> int:
    """The first order id of the month `period` (YYYYMM), as the registry recorded it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_id FROM panel_period_start WHERE table_name = 'orders_order' "
            "AND period = %s",
            [period],
        )
        return cursor.fetchone()[0]
