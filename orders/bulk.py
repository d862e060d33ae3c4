"""Writing different values to many rows in one statement.

Django's bulk_update builds a CASE with one branch per row for every field; for a poll writing
a thousand rows that is most of the poll's time. On PostgreSQL this joins the table to arrays
unnested into rows instead (one parameter per column, whatever the row count), which is
linear. Elsewhere (the embedded SQLite setup) it updates row by row.
"""

from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def _columns(model: type[Model], names: list[str]) -> "list[Field[Any, Any]]":
    # The names are the rows' keys: the model's own columns, never a reverse relation.
    return [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]


def bulk_update_values(model: type[Model], rows: dict[int, dict[str, object]]) -> None:
    """Set each row's given fields; a field a row does not give (or gives as None) keeps its value."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        for row_id, values in rows.items():
            given = {name: value for name, value in values.items() if value is not None}
            if given:  # None keeps the value, as COALESCE does on PostgreSQL
                model._default_manager.filter(pk=row_id).update(**given)
        return
    names = sorted({name for values in rows.values() for name in values})  # field names or attnames
    fields = _columns(model, names)
    pk = model._meta.pk
    arrays = [f"%s::{pk.cast_db_type(connection)}[]"]
    arrays += [f"%s::{field.cast_db_type(connection)}[]" for field in fields]
    columns = ", ".join(f'"{field.column}"' for field in [pk, *fields])
    assignments = ", ".join(
        f'"{field.column}" = COALESCE(v."{field.column}", t."{field.column}")' for field in fields
    )
    # Plain Python values (str, int, Decimal, aware datetime) go straight to psycopg; the array
    # casts above turn them into the column types, so Django's per-value preparation is skipped.
    params: list[list[object]] = [list(rows)]
    params += [[values.get(name) for values in rows.values()] for name in names]
    sql = (
        f'UPDATE "{model._meta.db_table}" AS t SET {assignments} '  # noqa: S608 - names come from the model, values are parameters
        f"FROM unnest({', '.join(arrays)}) AS v({columns}) "
        f'WHERE t."{pk.column}" = v."{pk.column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def bulk_insert_values(model: type[Model], rows: list[dict[str, object]]) -> None:
    """Insert rows given as field → value dicts (fields left out are NULL), in one statement on
    PostgreSQL. Defaults in Python (auto_now_add and the like) are not applied: give every value."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**values) for values in rows])
        return
    names = sorted(
        {name for values in rows for name in values}
    )  # field names or attnames (order_id)
    fields = _columns(model, names)
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    params = [[values.get(name) for values in rows] for name in names]
    sql = f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT * FROM unnest({arrays})'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
