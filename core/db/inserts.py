"""A row inserted with the event that records it, in one statement: every order placed pays a
round trip per statement."""

from django.db import connection
from django.db.models import Model

from core.db.rows import insert_parts, mark_saved, placeholders, table


def insert_with_event(*, row: Model, event: Model, link: str) -> None:
    """Insert the unsaved `row` and the unsaved `event` whose `link` (an attname, such as
    `order_id`) points at it. `row` is left as save() leaves it, and `event` gets its link."""
    row_columns, row_values = insert_parts(row)
    event_columns, event_values = insert_parts(event, leave_out=[link])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH placed AS (INSERT INTO {table(type(row))} ({row_columns}) "  # noqa: S608 - the models' own names
            f'VALUES ({placeholders(row_values)}) RETURNING "id") '
            f'INSERT INTO {table(type(event))} ({event_columns}, "{link}") '
            f'SELECT {placeholders(event_values)}, placed."id" FROM placed RETURNING "{link}"',
            [*row_values, *event_values],
        )
        (row_id,) = cursor.fetchone()
    mark_saved(row, row_id)
    setattr(event, link, row_id)
