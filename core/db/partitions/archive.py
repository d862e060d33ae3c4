"""A month's partitions written out and dropped (panel.archive decides which and when).

The rows go to gzip-compressed CSV files (`COPY … TO STDOUT`, header included), one a table,
which `COPY … FROM` or any spreadsheet reads back; then the partitions are detached and dropped
in the same transaction, so a failure at any step leaves the month as it was.
"""

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from core.db.partitions.months import partition_name


@dataclass(frozen=True)
class Constant:
    """A value every inserted row gets (partition_rows_insert), where a plain string names a
    column of the partition."""

    value: int | str


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


def partition_copy_out(*, table: str, period: int, path: Path) -> None:
    """Every row of `table`'s partition of the month `period` written to `path`."""
    partition = partition_name(table, period)
    rows_copy_out(sql=f'SELECT * FROM "{partition}"', params=[], path=path)  # noqa: S608 - a registry name


def partition_sums_add(
    *, table: str, period: int, into: str, keys: tuple[str, ...], column: str
) -> None:
    """Add the `column` of `table`'s partition of the month `period`, summed per `keys`, into
    the table `into` (unique on `keys`): one statement, and exactly the rows that are about to
    be dropped with it, whatever the DEFAULT partition holds."""
    partition = partition_name(table, period)
    names = ", ".join(f'"{key}"' for key in keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{into}" ({names}, "{column}") '  # noqa: S608 - the caller's names
            f'SELECT {names}, sum("{column}") FROM "{partition}" GROUP BY {names} '
            f'ON CONFLICT ({names}) DO UPDATE SET "{column}" = "{into}"."{column}" + '
            f'EXCLUDED."{column}"'
        )


def partition_rows_insert(
    *,
    table: str,
    period: int,
    into: str,
    columns: Mapping[str, str | Constant],
    not_null: str = "",
) -> None:
    """Insert into `into` one row per row of `table`'s partition of the month `period` (only
    those whose column `not_null` is set, when named): `columns` maps each column of `into` to
    a column of the partition or a Constant."""
    partition = partition_name(table, period)
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(
        "%s" if isinstance(source, Constant) else f'"{source}"' for source in columns.values()
    )
    params = [source.value for source in columns.values() if isinstance(source, Constant)]
    where = f'"{not_null}" IS NOT NULL' if not_null else "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{into}" ({names}) SELECT {values} FROM "{partition}" WHERE {where}',  # noqa: S608 - the caller's names
            params,
        )


def archived_keys_guard_install(
    schema_editor: BaseDatabaseSchemaEditor,
    *,
    partition: str,
    keys_table: str,
    constraints: Mapping[str, str],
) -> None:
    """A trigger on the DEFAULT partition `partition` refusing a row whose (column, kind), for
    each column of `constraints`, is in `keys_table` (subject = the column's name, subject_id,
    kind): the keys of archived months. A row of an archived month can only land in the
    DEFAULT partition, so the months' own partitions pay nothing; the refusal is the unique
    violation of the constraint named, as a replay met before the month went."""
    checks = " ".join(
        f'IF NEW."{column}" IS NOT NULL AND EXISTS (SELECT 1 FROM "{keys_table}" '  # noqa: S608 - the caller's names
        f"WHERE subject = '{column}' AND subject_id = NEW.\"{column}\" AND kind = NEW.kind) "
        f"THEN RAISE EXCEPTION USING ERRCODE = 'unique_violation', CONSTRAINT = '{name}', "
        f'MESSAGE = \'duplicate key value violates unique constraint "{name}" '
        "(a key of an archived month)'; END IF;"
        for column, name in constraints.items()
    )
    schema_editor.execute(
        f"""
        CREATE FUNCTION "{partition}_archived_keys"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {checks} RETURN NEW; END $$;
        CREATE TRIGGER "{partition}_archived_keys" BEFORE INSERT ON "{partition}"
            FOR EACH ROW EXECUTE FUNCTION "{partition}_archived_keys"();
        """
    )


def archived_keys_guard_remove(schema_editor: BaseDatabaseSchemaEditor, *, partition: str) -> None:
    schema_editor.execute(
        f'DROP TRIGGER "{partition}_archived_keys" ON "{partition}"; '
        f'DROP FUNCTION "{partition}_archived_keys"()'
    )


def partition_drop(*, table: str, period: int) -> None:
    """Detach `table`'s partition of the month `period` and drop it. The foreign keys into it
    are checked by PostgreSQL: a row elsewhere that still names one of its rows makes this
    fail."""
    partition = partition_name(table, period)
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


def id_span(*, table: str, period: int) -> tuple[int, int | None] | None:
    """The ids [first, next month's first) whose month is `period` (core.db.partitions
    period_of), end None for the newest month; None when the month was never recorded. For a
    table partitioned by id this reaches past the month's range over the ids that spilled into
    the DEFAULT partition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_id, (SELECT min(n.first_id) FROM panel_period_start n "
            "WHERE n.table_name = s.table_name AND n.first_id > s.first_id) "
            "FROM panel_period_start s WHERE s.table_name = %s AND s.period = %s",
            [table, period],
        )
        row = cursor.fetchone()
    return (int(row[0]), None if row[1] is None else int(row[1])) if row else None


def months(*, table: str, state: str) -> list[int]:
    """The months of `table` whose partitions are in `state`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT period FROM panel_partition WHERE table_name = %s AND state = %s "
            "ORDER BY period",
            [table, state],
        )
        return [row[0] for row in cursor.fetchall()]
