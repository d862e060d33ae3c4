"""The months made ahead: partitions, id ranges, the order id sequence, the DEFAULT partitions.

Orders are partitioned by ranges of their id, one range a month, made two months ahead. A
live partition cannot be split (the tables that reference orders hold foreign keys into it),
so a month's range is made before the month starts, above every id handed out, and at the
month's start the id sequence is moved up to it (`setval` only ever moves it forward). A month
that outgrows its range spills into the next one's; a range is three times the largest month
seen, so that stays rare. Events and the ledger are partitioned by `period`, one partition a
month. Every partitioned table has a DEFAULT partition, so an insert never fails for want of
a partition, even with beat down for weeks: `Prepared.default_rows` names the tables whose
DEFAULT partition holds rows, for the caller to raise an alert.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction

from core.db.locks import try_transaction_lock, wait_transaction_lock
from core.db.partitions.periods import current_period, next_period

MONTHS_AHEAD = 2
# The smallest id range of a month, and what a range is rounded up to.
RANGE_FLOOR = 1_000_000
# How long a caller that does not wait (`partitions_prepare(wait=False)`) lets a statement
# wait for a table's lock (a long query over the table a partition is made of).
NO_WAIT_LOCK_TIMEOUT = "5s"
_LOCK_NOT_AVAILABLE = "55P03"
_REGISTRIES = ("panel_period_start", "panel_partition")


class PartitionsBusy(Exception):
    """Another transaction holds the months (an archive of old months, another preparation)
    or a table they change, and the caller asked not to wait for it."""


@dataclass(frozen=True)
class Prepared:
    """What one `partitions_prepare` did and found."""

    created: list[str] = field(default_factory=list)
    sequence_moved_to: int | None = None
    default_rows: list[str] = field(default_factory=list)


def _one(sql: str, params: list[Any] | None = None) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def _run(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _sequence(table: str) -> str:
    return str(_one("SELECT pg_get_serial_sequence(%s, 'id')", [table]))


def _sequence_next(table: str) -> int:
    sequence = _sequence(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - the catalog's name
        last, is_called = cursor.fetchone()
    return int(last) + 1 if is_called else int(last)


def partition_name(table: str, period: int) -> str:
    """The name of `table`'s partition of the month `period`."""
    return f"{table}_p{period}"


def _register(table: str, period: int, name: str) -> None:
    _run(
        "INSERT INTO panel_partition (table_name, period, partition_name) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [table, period, name],
    )


def _is_registered(table: str, period: int) -> bool:
    return bool(
        _one(
            "SELECT EXISTS (SELECT 1 FROM panel_partition WHERE table_name = %s AND period = %s)",
            [table, period],
        )
    )


def _range_size(table: str) -> int:
    """Three times the most ids a month of the last year took, rounded up, at least
    RANGE_FLOOR. A month's use is its highest id (one index probe a month), not its range: the
    sequence jumps over what a month left unused."""
    used = _one(
        f'SELECT max((SELECT max(o.id) FROM "{table}" o '  # noqa: S608 - the caller's names
        "WHERE o.id >= m.first_id AND o.id < m.end_id) - m.first_id + 1) "
        "FROM (SELECT first_id, end_id FROM panel_period_start WHERE table_name = %s "
        "AND end_id IS NOT NULL ORDER BY period DESC LIMIT 12) m",
        [table],
    )
    size = max(RANGE_FLOOR, 3 * int(used or 0))  # type: ignore[call-overload]
    return -(-size // RANGE_FLOOR) * RANGE_FLOOR


def _id_range_create(table: str, period: int) -> str | None:
    if _is_registered(table, period):
        return None
    last_end = _one("SELECT max(end_id) FROM panel_period_start WHERE table_name = %s", [table])
    # Above every id handed out: ids that spilled past the last range live in the DEFAULT
    # partition, and a range over them could not be made.
    low = max(int(last_end or 1), _sequence_next(table))  # type: ignore[call-overload]
    high = low + _range_size(table)
    name = partition_name(table, period)
    _run(
        f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM ({low}) TO ({high})'  # noqa: S608 - integers and the caller's names
    )
    _run(
        "INSERT INTO panel_period_start (table_name, period, first_id, end_id) "
        "VALUES (%s, %s, %s, %s)",
        [table, period, low, high],
    )
    _register(table, period, name)
    return name


def _period_create(table: str, period: int) -> str | None:
    """The month's partition of a table partitioned by `period`. Rows already routed to the
    DEFAULT partition for that month (beat was down) are moved into it."""
    if _is_registered(table, period):
        return None
    name = partition_name(table, period)
    default = f"{table}_default"
    bounds = f"FOR VALUES FROM ({int(period)}) TO ({int(period) + 1})"
    stranded = _one(
        f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE "period" = %s)',  # noqa: S608 - the caller's names
        [period],
    )
    if stranded:
        _run(f'ALTER TABLE "{table}" DETACH PARTITION "{default}"')
        _run(f'CREATE TABLE "{name}" PARTITION OF "{table}" {bounds}')
        _run(
            f'WITH moved AS (DELETE FROM "{default}" WHERE "period" = %s RETURNING *) '  # noqa: S608 - the caller's names
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [period],
        )
        _run(f'ALTER TABLE "{table}" ATTACH PARTITION "{default}" DEFAULT')
    else:
        _run(f'CREATE TABLE "{name}" PARTITION OF "{table}" {bounds}')
    _register(table, period, name)
    return name


def _mark(table: str, period: int) -> None:
    """Record the month's first id of an anchor table: the sequence's next id. Every id handed
    out before is below it, so no id already in use changes month.

    A month in which the table took no id would start at the last month's first id, which the
    registry's key refuses: the month went unrecorded, and every later row of the table took
    the last recorded month, archived perhaps (a panel that sells its first refill a year after
    it was installed). The sequence is moved past that id first, so each month starts on its
    own id; the id skipped is never handed out."""
    if _one(
        "SELECT EXISTS (SELECT 1 FROM panel_period_start WHERE table_name = %s AND period >= %s)",
        [table, period],
    ):
        return
    latest = _one("SELECT max(first_id) FROM panel_period_start WHERE table_name = %s", [table])
    if latest is not None and _sequence_next(table) <= int(latest):  # type: ignore[call-overload]
        sequence = _sequence(table)
        _run(
            f"SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM {sequence})), true)",  # noqa: S608 - the catalog's name
            [sequence, int(latest)],  # type: ignore[call-overload]
        )
    _run(
        "INSERT INTO panel_period_start (table_name, period, first_id) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [table, period, _sequence_next(table)],
    )


def _sequence_move(table: str, period: int) -> int | None:
    first = _one(
        "SELECT first_id FROM panel_period_start WHERE table_name = %s AND period = %s",
        [table, period],
    )
    if first is None or _sequence_next(table) >= int(first):  # type: ignore[call-overload]
        return None
    # GREATEST: a concurrent insert may have taken ids past the read above.
    _run(
        f"SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM {_sequence(table)})), true)",  # noqa: S608 - the catalog's name
        [_sequence(table), int(first) - 1],  # type: ignore[call-overload]
    )
    return int(first)  # type: ignore[call-overload]


def partitions_prepare(
    *,
    by_id: list[str],
    by_period: list[str],
    anchors: list[str],
    now: datetime | None = None,
    wait: bool = True,
) -> Prepared:
    """Make this month's and the next MONTHS_AHEAD months' partitions of the tables partitioned
    by id range (`by_id`) and by period (`by_period`), mark this month's first id of `anchors`,
    move the id sequences of `by_id` up to this month's range, and name the tables whose DEFAULT
    partition holds rows. Idempotent; concurrent calls take turns under an advisory lock.
    Without `wait`, raises PartitionsBusy instead of waiting for that lock, or for a table's
    lock longer than NO_WAIT_LOCK_TIMEOUT (`migrate`'s run: an archive holds the lock for as
    long as it writes its month's files, and beat's hourly job comes anyway)."""
    period = current_period(now)
    periods = [next_period(period, months) for months in range(MONTHS_AHEAD + 1)]
    created: list[str] = []
    moved: int | None = None
    try:
        with transaction.atomic():
            timeout_before = None
            if wait:
                wait_transaction_lock("partitions-prepare")
            elif try_transaction_lock("partitions-prepare"):
                timeout_before = _one(
                    "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                    [NO_WAIT_LOCK_TIMEOUT],
                )
            else:
                raise PartitionsBusy("the months' lock is held")
            for table in by_id:
                created += [name for p in periods if (name := _id_range_create(table, p))]
                moved = _sequence_move(table, period) or moved
            for table in by_period:
                created += [name for p in periods if (name := _period_create(table, p))]
            for table in anchors:
                _mark(table, period)
            if timeout_before is not None:
                # Within a caller's transaction the setting would outlive this savepoint.
                _run("SELECT set_config('lock_timeout', %s, true)", [timeout_before])
    except OperationalError as error:
        if wait or getattr(error.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        raise PartitionsBusy(str(error)) from error
    stranded = [
        table
        for table in [*by_id, *by_period]
        if _one(f'SELECT EXISTS (SELECT 1 FROM "{table}_default")')  # noqa: S608 - the caller's names
    ]
    return Prepared(created=created, sequence_moved_to=moved, default_rows=stranded)


def partitions_in_place(*, partitioned: list[str], plain: list[str]) -> bool:
    """Whether the tables `partitioned` are partitioned and `plain` exist, with the months'
    registries: what `partitions_prepare` needs. Not so after `migrate --fake` past the
    migrations that partition them, whose schema changes were never made."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname = ANY(%s) "
            "AND relkind IN ('r', 'p') AND pg_table_is_visible(oid)",
            [[*partitioned, *plain, *_REGISTRIES]],
        )
        kinds = dict(cursor.fetchall())
    return all(kinds.get(table) == "p" for table in partitioned) and all(
        table in kinds for table in [*plain, *_REGISTRIES]
    )
