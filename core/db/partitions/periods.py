"""The month a row belongs to, from its id.

`panel_period_start` records, for each table whose ids anchor a month (orders, product orders,
refills, deposits), the first id of each month. For orders the months are id ranges made ahead
(`months`); for the others the first id is the sequence's position when the month was marked.
Either way a month's first id is recorded before any id at or above it is handed out, and rows
only ever gain a higher month, so the month of an id never changes once read: the ledger's
unique keys (order, kind, period) hold across months because period is a function of the id.
"""

import bisect
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

# The month of every row written before the tables were partitioned.
LEGACY_PERIOD = 0

_REGISTRY = "panel_period_start"
_cache: dict[str, tuple[list[int], list[int]]] = {}
# The tables whose ids a month follows (the subjects), each by the column other rows name it
# with (`order_id`), in the order a row naming several follows them. The app that owns them
# registers them as it starts (orders.partitions), so that no lower layer names its tables.
_subjects: dict[str, str] = {}
# How far behind beat a process's clock may be at a month's turn (period_of).
_CLOCK_MARGIN = timedelta(minutes=10)

# An SQL expression and its parameters, for a statement written by hand to embed.
Sql = tuple[str, list[Any]]


class PeriodMissing(ValueError):
    """A row of a table partitioned by its subject's month saved without its `period`."""


class PeriodField(models.IntegerField):
    """The `period` of a table partitioned by the month of its rows' subjects, with no default
    in Python or in the database: a writer that forgot it would put the row in the month it
    was written, and a replay in a later month would miss the unique key its first write
    holds. Saving a row without it raises PeriodMissing; an insert by hand that leaves it out
    breaks the column's NOT NULL. A row may hold `period_of_subject_expression` until saved:
    the database computes the month, and the insert reads it back into the row."""

    @property
    def db_returning(self) -> bool:
        # Django's own (private) switch for the columns an INSERT returns: a month the
        # database computed is on the instance after save() and bulk_create(), not the SQL.
        # PostgreSQL always returns them: no check of the backend's features.
        return True

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        if value is None:
            raise PeriodMissing(
                f"{model_instance._meta.label}.{self.name} not given: the month of the row's "
                "subject (core.db.partitions.period_of_subject_sql), or period_own()"
            )
        return value


def current_period(now: datetime | None = None) -> int:
    """YYYYMM of `now` (the current time by default), in the panel's time zone."""
    moment = timezone.localtime(now or timezone.now())
    return moment.year * 100 + moment.month


def next_period(period: int, months: int = 1) -> int:
    year, month = divmod(period, 100)
    index = year * 12 + month - 1 + months
    return (index // 12) * 100 + index % 12 + 1


def _load(table_name: str) -> tuple[list[int], list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT first_id, period FROM {_REGISTRY} WHERE table_name = %s "  # noqa: S608 - constant
            "ORDER BY first_id",
            [table_name],
        )
        rows = cursor.fetchall()
    loaded = ([row[0] for row in rows], [row[1] for row in rows])
    _cache[table_name] = loaded
    return loaded


def _may_have_moved(periods: list[int]) -> bool:
    """Whether a month newer than the cached ones may have been recorded since: not while the
    newest cached month is the current one and stays so for a while. Product orders', refills'
    and deposits' months are recorded when they start, so without this every row of the
    current month read the registry again (a query per ledger row and event); the margin
    keeps a process whose clock is behind beat's from keeping the old month past its end."""
    soon = timezone.now() + _CLOCK_MARGIN
    return periods[-1] != current_period() or current_period(soon) != periods[-1]


def period_of(table_name: str, row_id: int) -> int:
    """The month of the row `row_id` of `table_name`. Cached per process: below the newest
    recorded first id the answer is final; at or above it too while no newer month can have
    been recorded (`_may_have_moved`), else the registry is read again."""
    firsts, periods = _cache.get(table_name) or _load(table_name)
    if not firsts or (row_id >= firsts[-1] and _may_have_moved(periods)):
        firsts, periods = _load(table_name)
    index = bisect.bisect_right(firsts, row_id) - 1
    return periods[index] if index >= 0 else LEGACY_PERIOD


def period_subject_register(*, column: str, table: str) -> None:
    """Rows naming a row of `table` in their `column` take its month (`period_of_subject_sql`)."""
    if _subjects.setdefault(column, table) != table:
        raise ValueError(f"{column} already names {_subjects[column]}, not {table}")


def period_subject_table(column: str) -> str | None:
    """The table whose rows the column `column` names as a month's subject, if registered."""
    return _subjects.get(column)


def period_own() -> int:
    """The month of a row that names no subject (an admin's adjustment, a child panel's fee):
    its own, read from the writer's clock. No unique key holds such a row, so a skewed clock
    can only put it in the neighbouring month, never let a replay through. Every writer of a
    row with no subject takes its month from here."""
    return current_period()


def _subject_checked(subject_columns: Iterable[str]) -> None:
    """A column nobody registered raises LookupError: its row would take the wrong month, and
    a replay in a later month would miss its unique key."""
    if unknown := set(subject_columns) - _subjects.keys():
        raise LookupError(f"no period subject registered for {', '.join(sorted(unknown))}")


def period_of_subject_sql(**subject_ids: int | None) -> Sql:
    """The month of a row that names its subject by id (`order_id=…`) as an SQL expression:
    the first named subject's, in the order they were registered, read by the database from
    the registry, so no process's clock decides it (`period_of` trusts the process's clock
    near a month's turn); `period_own()` for a row that names none."""
    _subject_checked(subject_ids)
    for column, table_name in _subjects.items():
        if (subject_id := subject_ids.get(column)) is not None:
            sql, params = period_of_sql(table_name, "%s::bigint")
            return sql, [*params, subject_id]
    return "%s::integer", [period_own()]


def period_of_subject_expression(**subject_ids: int | None) -> RawSQL:
    """`period_of_subject_sql` as a value for a model's `period` (`event.period = …`): the
    ORM's INSERT sends it as SQL, so the database, not this process's clock, decides the
    month of a row saved one at a time."""
    sql, params = period_of_subject_sql(**subject_ids)
    return RawSQL(sql, params, output_field=models.IntegerField())  # noqa: S611 - the registry's own SQL


def period_of_subject_columns_sql(columns: Iterable[str], *, row: str) -> Sql:
    """`period_of_subject_sql` for many rows in one statement (a poll's refunds): each row's
    month from its own subject columns (`columns`, read as `row."order_id"` …), first named
    first; `period_own()` for a row that names none. The registry is read once per subject
    table, not once per row (`_period_of_many_sql`)."""
    _subject_checked(columns)
    named = set(columns)
    branches: list[str] = []
    params: list[Any] = []
    for column, table_name in _subjects.items():
        if column in named:
            value = f'{row}."{column}"'
            sql, table_params = _period_of_many_sql(table_name, value)
            branches.append(f"WHEN {value} IS NOT NULL THEN {sql}")
            params += table_params
    if not branches:
        return "%s::integer", [period_own()]
    return f"CASE {' '.join(branches)} ELSE %s::integer END", [*params, period_own()]


def period_of_sql(table_name: str, id_sql: str) -> Sql:
    """`period_of` as an SQL expression over the id expression `id_sql` (a row whose id the
    same statement takes from its sequence, a subject's id), read by the database: the
    registry's newest month at or below the id, by an index probe of its (table, first id)."""
    sql = (
        f"COALESCE((SELECT period FROM {_REGISTRY} WHERE table_name = %s "  # noqa: S608 - constant
        f"AND first_id <= {id_sql} ORDER BY first_id DESC LIMIT 1), {LEGACY_PERIOD})"
    )
    return sql, [table_name]


def _period_of_many_sql(table_name: str, id_sql: str) -> Sql:
    """`period_of_sql` for a statement of many rows: the table's months read once, as two
    sorted arrays the statement keeps (uncorrelated subqueries), and each row's month found in
    them by a binary search (`width_bucket`: the number of first ids at or below the id),
    instead of a probe of the registry per row."""
    months = (
        f"(SELECT array_agg({{column}} ORDER BY first_id) FROM {_REGISTRY} "  # noqa: S608 - constant
        "WHERE table_name = %s)"
    )
    firsts, periods = months.format(column="first_id"), months.format(column="period")
    sql = f"COALESCE({periods}[width_bucket({id_sql}, {firsts})], {LEGACY_PERIOD})"
    return sql, [table_name, table_name]
