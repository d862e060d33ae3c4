"""Writing different values to many rows in one statement.

Django's bulk_update builds a CASE with one branch per row for every field; for a poll writing
a thousand rows that is most of the poll's time. On PostgreSQL this joins the table to arrays
unnested into rows instead (one parameter per column, whatever the row count), which is
linear. Elsewhere (the embedded SQLite setup) it updates row by row.

It lives in core because writers in several apps need it: polling (orders) and the outbox
rows a poll writes for every finished order (notifications).
"""

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def _columns(model: type[Model], names: Iterable[str]) -> "list[Field[Any, Any]]":
    """Concrete columns by name (never reverse relations, which have no column)."""
    return [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal (`{1,NULL,"In progress"}`) for one parameter.

    psycopg adapts a list element by element in Python, which for a poll's thousand-row chunks
    cost more than the database's own work; joining the text here is several times cheaper.
    The parameter is cast to the column's array type in the statement, so PostgreSQL parses each
    element with that type's own input function.
    """
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bulk_update_values(
    model: type[Model],
    rows: dict[int, dict[str, object]],
    *,
    guard: dict[int, dict[str, object]] | None = None,
) -> set[int]:
    """Set each row's given fields; a field a row does not give (or gives as None) keeps its
    value. With `guard`, a row is written only while its guarded fields still hold the given
    values (someone else may have moved it since it was read). Returns the ids written."""
    if not rows:
        return set()
    guard = guard or {}
    if connection.vendor != "postgresql":
        return _update_row_by_row(model, rows, guard)
    names = sorted({name for values in rows.values() for name in values})  # field names or attnames
    guarded = sorted({name for values in guard.values() for name in values})
    fields = _columns(model, names)
    guard_fields = _columns(model, guarded)
    pk = model._meta.pk
    arrays = [f"%s::{pk.cast_db_type(connection)}[]"]
    arrays += [f"%s::{field.cast_db_type(connection)}[]" for field in [*fields, *guard_fields]]
    columns = [f'"{field.column}"' for field in [pk, *fields]]
    columns += [f'"guard_{field.column}"' for field in guard_fields]
    assignments = ", ".join(
        f'"{field.column}" = COALESCE(v."{field.column}", t."{field.column}")' for field in fields
    )
    conditions = "".join(
        f' AND t."{field.column}" IS NOT DISTINCT FROM v."guard_{field.column}"'
        for field in guard_fields
    )
    # Plain Python values (str, int, Decimal, aware datetime) are written as array literals; the
    # casts above turn them into the column types, so Django's per-value preparation is skipped.
    params = [array_literal(rows)]
    params += [array_literal([values.get(name) for values in rows.values()]) for name in names]
    params += [array_literal([guard.get(pk, {}).get(name) for pk in rows]) for name in guarded]
    table, key = model._meta.db_table, pk.column
    values = f"unnest({', '.join(arrays)}) AS v({', '.join(columns)})"
    if guard:
        # Rows locked in key order first: two writers guarding overlapping rows (a poll and a
        # late duplicate of it) then queue one behind the other instead of deadlocking, and
        # the second finds its guard broken once the first has committed.
        sql = (
            f"WITH v AS (SELECT * FROM {values}), "  # noqa: S608 - names come from the model
            f'locked AS (SELECT "{key}" FROM "{table}" WHERE "{key}" IN (SELECT "{key}" FROM v) '
            f'ORDER BY "{key}" FOR NO KEY UPDATE) '
            f'UPDATE "{table}" AS t SET {assignments} FROM v WHERE t."{key}" = v."{key}" '
            f'AND t."{key}" IN (SELECT "{key}" FROM locked){conditions} RETURNING t."{key}"'
        )
    else:
        sql = (
            f'UPDATE "{table}" AS t SET {assignments} FROM {values} '  # noqa: S608 - names come from the model, values are parameters
            f'WHERE t."{key}" = v."{key}" RETURNING t."{key}"'
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _update_row_by_row(
    model: type[Model], rows: dict[int, dict[str, object]], guard: dict[int, dict[str, object]]
) -> set[int]:
    written = set()
    for pk, values in rows.items():
        # None keeps the value, as COALESCE does on PostgreSQL
        given = {name: value for name, value in values.items() if value is not None}
        matching = model._default_manager.filter(pk=pk, **guard.get(pk, {}))
        if matching.update(**given) if given else matching.exists():
            written.add(pk)
    return written


def bulk_insert_values(
    model: type[Model], rows: list[dict[str, object]], *, ignore_conflicts: bool = False
) -> None:
    """Insert rows given as field → value dicts (fields left out are NULL), in one statement on
    PostgreSQL. Defaults in Python (auto_now_add and the like) are not applied: give every value.
    JSON fields take dicts and lists. With `ignore_conflicts`, rows that would break a unique
    constraint are skipped (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**values) for values in rows], ignore_conflicts=ignore_conflicts
        )
        return
    names = sorted(
        {name for values in rows for name in values}
    )  # field names or attnames (order_id)
    fields = _columns(model, names)
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    params = [array_literal([values.get(name) for values in rows]) for name in names]
    sql = f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT * FROM unnest({arrays})'  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def bulk_set(model: type[Model], pks: list[int], values: dict[str, object]) -> None:
    """Give many rows the same values, their ids sent as one array literal (an `IN` list of a
    thousand parameters costs more to build and send than the update itself)."""
    if not pks:
        return
    if connection.vendor != "postgresql":
        model._default_manager.filter(pk__in=pks).update(**values)
        return
    fields = _columns(model, values)
    pk = model._meta.pk
    assignments = ", ".join(f'"{field.column}" = %s' for field in fields)
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    sql = (
        f'UPDATE "{model._meta.db_table}" SET {assignments} '  # noqa: S608 - names come from the model
        f'WHERE "{pk.column}" = ANY(%s::{pk.cast_db_type(connection)}[])'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, array_literal(pks)])
