"""A month's partitions written out and dropped (panel.archive decides which and when).

The rows go to gzip-compressed CSV files (`COPY … TO STDOUT`, header included), one a table,
which `COPY … FROM` or any spreadsheet reads back; then the partitions are detached and dropped
in the same transaction, so a failure at any step leaves the month as it was.
"""

import gzip
from pathlib import Path

from django.db import connection


def rows_copy_out(*, sql: str, params: list[object], path: Path) -> None:
    """The rows of `sql` (a SELECT; parameters bound here) written to `path` as gzip'd CSV."""
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params)
        with (
            gzip.open(path, "wb") as out,
            cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
        ):
            for block in copy:
                out.write(block)


def partition_copy_out(*, partition: str, path: Path) -> None:
    rows_copy_out(sql=f'SELECT * FROM "{partition}"', params=[], path=path)  # noqa: S608 - a registry name


def partition_drop(*, table: str, partition: str) -> None:
    """Detach `partition` from `table` and drop it. The foreign keys into it are checked by
    PostgreSQL: a row elsewhere that still names one of its rows makes this fail."""
    with connection.cursor() as cursor:
        # Deferred foreign key checks queued on the partition would forbid dropping it: run them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{partition}"')
        cursor.execute(f'DROP TABLE "{partition}"')
        cursor.execute(
            "UPDATE panel_partition SET state = 'archived', archived_at = now() "
            "WHERE partition_name = %s",
            [partition],
        )


def partition_archive_path_set(*, table: str, period: int, path: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE panel_partition SET archive_path = %s WHERE table_name = %s AND period = %s",
            [path, table, period],
        )


def id_range(*, table: str, period: int) -> tuple[int, int] | None:
    """The id range [first, end) of the month `period` of a table partitioned by id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_id, end_id FROM panel_period_start WHERE table_name = %s "
            "AND period = %s AND end_id IS NOT NULL",
            [table, period],
        )
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def months(*, table: str, state: str) -> list[int]:
    """The months of `table` whose partitions are in `state`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT period FROM panel_partition WHERE table_name = %s AND state = %s "
            "ORDER BY period",
            [table, state],
        )
        return [row[0] for row in cursor.fetchall()]


def is_in_archived_month(*, table: str, row_id: int) -> bool:
    """Whether `row_id` lies in the id range of an archived month of `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM panel_period_start s JOIN panel_partition p "
            "ON p.table_name = s.table_name AND p.period = s.period "
            "WHERE s.table_name = %s AND p.state = 'archived' AND s.first_id <= %s "
            "AND s.end_id > %s)",
            [table, row_id, row_id],
        )
        return bool(cursor.fetchone()[0])
