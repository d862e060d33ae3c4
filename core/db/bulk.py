"""Writing different values to many rows in one statement.

Django's bulk_update builds a CASE with one branch per row for every field; for a poll writing
a thousand rows that is most of the poll's time. This joins the table to arrays unnested into
rows instead (one parameter per column, whatever the row count), which is linear.

Writers in several apps need it: polling (orders), the ledger's batch of refunds (accounts) and
the outbox rows a poll writes for every finished order (notifications).
"""

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

from core.db.arrays import array_literal, is_constant, scalar_text
from core.db.partitions import Sql


def _columns(model: type[Model], names: Iterable[str]) -> "list[Field[Any, Any]]":
    """Concrete columns by name (never reverse relations, which have no column)."""
    return [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]


@lru_cache(maxsize=1024)
def _cast_type(field: "Field[Any, Any]", vendor: str) -> str:
    """The type a column's parameter is cast to. Cached: Django works it out anew each time
    (a few microseconds), for every column of every statement, dozens per poll chunk."""
    return cast(str, field.cast_db_type(connection))


def _cast(field: "Field[Any, Any]") -> str:
    return _cast_type(field, connection.vendor)


class _Arrays:
    """The columns a statement unnests into rows, one array parameter each."""

    def __init__(self) -> None:
        self.casts: list[str] = []
        self.aliases: list[str] = []
        self.params: list[str] = []

    def add(self, alias: str, field: "Field[Any, Any]", values: list[object]) -> str:
        self.casts.append(f"%s::{_cast(field)}[]")
        self.aliases.append(alias)
        self.params.append(array_literal(values))
        return f"v.{alias}"

    def unnest(self) -> str:
        return f"unnest({', '.join(self.casts)}) AS v({', '.join(self.aliases)})"


def _scalar_or_array(
    arrays: _Arrays,
    params: list[str | None],
    alias: str,
    field: "Field[Any, Any]",
    values: list[object],
) -> str:
    """The expression for one column's values: a column holding the same value on every row
    (a chunk's `now`, a constant status or count) is sent as one scalar parameter, which it is
    cheaper to print and to parse once than a thousand times; any other as an array."""
    if is_constant(values):
        params.append(scalar_text(values[0]))
        return f"%s::{_cast(field)}"
    return arrays.add(alias, field, values)


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
    # (`set().union` over the rows' dicts takes their keys in C: a Python step per key was a
    # few per cent of a poll chunk's write, whose rows are a thousand)
    names = sorted(set().union(*rows.values()))  # field names or attnames
    guarded = sorted(set().union(*guard.values()))
    pk = model._meta.pk
    table, key = model._meta.db_table, pk.column
    arrays = _Arrays()
    arrays.add(f'"{key}"', pk, list(rows))
    assignments: list[str] = []
    set_params: list[str | None] = []
    for name, field in zip(names, _columns(model, names), strict=True):
        values = [row.get(name) for row in rows.values()]
        column = f'"{field.column}"'
        if not is_constant(values):
            alias = arrays.add(column, field, values)
            assignments.append(f"{column} = COALESCE({alias}, t.{column})")  # None keeps it
        elif values[0] is not None:  # None on every row: every row keeps its value
            set_params.append(scalar_text(values[0]))
            assignments.append(f"{column} = %s::{_cast(field)}")
    if not assignments:  # every value given is None: the rows are written unchanged
        assignments.append(f'"{key}" = t."{key}"')
    conditions: list[str] = []
    unguarded: dict[str, object] = {}
    for name, field in zip(guarded, _columns(model, guarded), strict=True):
        values = [guard.get(row_pk, unguarded).get(name) for row_pk in rows]
        # Always an array: a constant here is a filter on the table the planner may prefer to
        # scan by (a chunk's write then read every polled row), instead of joining to the ids.
        value = arrays.add(f'"guard_{field.column}"', field, values)
        conditions.append(f' AND t."{field.column}" IS NOT DISTINCT FROM {value}')
    set_sql, where_sql = ", ".join(assignments), "".join(conditions)
    # The rows' key range besides their keys: a table partitioned by key ranges then reads only
    # the partitions the rows are in, which a join to the unnested keys alone does not tell
    # the planner.
    key_type = _cast(pk)
    span = f'"{key}" BETWEEN %s::{key_type} AND %s::{key_type}'
    bounds = [scalar_text(min(rows)), scalar_text(max(rows))]
    if guard:
        # Rows locked in key order first: two writers guarding overlapping rows (a poll and a
        # late duplicate of it) then queue one behind the other instead of deadlocking, and
        # the second finds its guard broken once the first has committed.
        sql = (
            f"WITH v AS (SELECT * FROM {arrays.unnest()}), "  # noqa: S608 - names come from the model
            f'locked AS (SELECT "{key}" FROM "{table}" WHERE {span} '
            f'AND "{key}" IN (SELECT "{key}" FROM v) ORDER BY "{key}" FOR NO KEY UPDATE) '
            f'UPDATE "{table}" AS t SET {set_sql} FROM v WHERE t."{key}" = v."{key}" '
            f'AND t.{span} AND t."{key}" IN (SELECT "{key}" FROM locked){where_sql} '
            f'RETURNING t."{key}"'
        )
        params = [*arrays.params, *bounds, *set_params, *bounds]
    else:
        sql = (
            f'UPDATE "{table}" AS t SET {set_sql} FROM {arrays.unnest()} '  # noqa: S608 - names come from the model, values are parameters
            f'WHERE t."{key}" = v."{key}" AND t.{span} RETURNING t."{key}"'
        )
        params = [*set_params, *arrays.params, *bounds]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def bulk_add_values(model: type[Model], rows: dict[int, dict[str, object]]) -> None:
    """Add each row's given amounts to its columns (a balance and its credits), in one
    statement that locks the rows in key order first: writers adding to overlapping rows
    queue instead of deadlocking. The sums are the database's, so the caller needs no read of
    the rows, and holds their locks for no round trip of its own."""
    if not rows:
        return
    names = sorted(set().union(*rows.values()))
    pk = model._meta.pk
    table, key = model._meta.db_table, pk.column
    arrays = _Arrays()
    arrays.add(f'"{key}"', pk, list(rows))
    assignments = []
    for name, field in zip(names, _columns(model, names), strict=True):
        column = f'"{field.column}"'
        alias = arrays.add(column, field, [row.get(name) for row in rows.values()])
        assignments.append(f"{column} = t.{column} + COALESCE({alias}, 0)")
    sql = (
        f"WITH v AS (SELECT * FROM {arrays.unnest()}), "  # noqa: S608 - names come from the model
        f'locked AS (SELECT "{key}" FROM "{table}" WHERE "{key}" IN (SELECT "{key}" FROM v) '
        f'ORDER BY "{key}" FOR NO KEY UPDATE) '
        f'UPDATE "{table}" AS t SET {", ".join(assignments)} FROM v WHERE t."{key}" = v."{key}" '
        f'AND t."{key}" IN (SELECT "{key}" FROM locked)'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays.params)


# The name under which `bulk_insert_values`' computed columns read a row's given values.
GIVEN = "given"


def given_less_row_column_sql(model: type[Model], name: str, *, key: str, less: str) -> Sql:
    """A computed column for `bulk_insert_values`: the current value of `model`'s column
    `name` in the row whose key is the given row's `key`, less the given row's `less` (a
    ledger row's balance after it: its user's balance less its batch's later credits)."""
    table, pk = model._meta.db_table, model._meta.pk.column
    column = cast("Field[Any, Any]", model._meta.get_field(name)).column
    return (
        f'((SELECT r."{column}" FROM "{table}" AS r WHERE r."{pk}" = {GIVEN}."{key}") '  # noqa: S608 - names come from the model
        f'- {GIVEN}."{less}")',
        [],
    )


def bulk_insert_values(
    model: type[Model],
    rows: list[dict[str, object]],
    *,
    same: dict[str, object] | None = None,
    ignore_conflicts: bool = False,
    computed: Mapping[str, Sql] | None = None,
) -> None:
    """Insert rows given as field → value dicts (fields left out are NULL), in one statement.
    `same` holds values every row shares (a row's own value for a name wins), sent once.
    Defaults in Python (auto_now_add and the like) are not applied: give every value. JSON
    fields take dicts and lists. With `ignore_conflicts`, rows that would break a unique
    constraint are skipped (ON CONFLICT DO NOTHING). `computed` holds fields the database
    computes for each row, as SQL (and its parameters) that reads the row's given values as
    `given."column"` (`GIVEN`)."""
    if not rows:
        return
    same = same or {}
    computed = computed or {}
    given: set[str] = set().union(*rows)  # field names or attnames
    names = sorted(given | same.keys())
    arrays = _Arrays()
    selected: list[str] = []
    scalar_params: list[str | None] = []
    fields = _columns(model, names)
    for name, field in zip(names, fields, strict=True):
        alias = f'"{field.column}"'
        default = same.get(name)
        # One array at least, or `unnest` would yield no row to insert.
        if not arrays.casts and field is fields[-1]:
            selected.append(arrays.add(alias, field, [row.get(name, default) for row in rows]))
        elif name not in given:
            scalar_params.append(scalar_text(default))
            selected.append(f"%s::{_cast(field)}")
        else:
            values = [row.get(name, default) for row in rows]
            selected.append(_scalar_or_array(arrays, scalar_params, alias, field, values))
    quoted = [f'"{field.column}"' for field in fields]
    select = f"SELECT {', '.join(selected)} FROM {arrays.unnest()}"  # noqa: S608 - names come from the model
    params: list[Any] = [*scalar_params, *arrays.params]
    if computed:
        # The given values named in a subquery the planner flattens, so that the computed
        # columns read them whether they went as arrays or as one scalar.
        named = ", ".join(
            f"{value} AS {column}" for value, column in zip(selected, quoted, strict=True)
        )
        # A computed column may also be given: the given value is then only read by its SQL.
        computed_columns = [f'"{field.column}"' for field in _columns(model, computed)]
        quoted_given = [column for column in quoted if column not in computed_columns]
        select = (
            f"SELECT {', '.join(f'{GIVEN}.{column}' for column in quoted_given)}, "  # noqa: S608 - names come from the model
            f"{', '.join(sql for sql, _params in computed.values())} "
            f"FROM (SELECT {named} FROM {arrays.unnest()}) AS {GIVEN}"
        )
        quoted = [*quoted_given, *computed_columns]
        params = [*(p for _sql, sql_params in computed.values() for p in sql_params), *params]
    sql = f'INSERT INTO "{model._meta.db_table}" ({", ".join(quoted)}) {select}'  # noqa: S608 - names come from the model
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _next_keys(model: type[Model], count: int) -> list[int]:
    """`count` primary keys taken from the table's sequence in one statement: each row knows
    its own key before the insert, without relying on the order of RETURNING."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def bulk_insert_instances(instances: Sequence[Model], *, chunk: int = 10_000) -> None:
    """Insert unsaved instances of one model, `chunk` rows a statement, as bulk_create would
    (auto_now fields set as save() sets them), and give each its primary key. The rows go in as
    unnested arrays (bulk_insert_values), a fraction of what bulk_create spends adapting every
    value in Python."""
    if not instances:
        return
    model = type(instances[0])
    pk = model._meta.pk
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    keys = _next_keys(model, len(instances))
    for start in range(0, len(instances), chunk):
        part = instances[start : start + chunk]
        rows = []
        for instance, key in zip(part, keys[start : start + chunk], strict=True):
            row = {field.attname: field.pre_save(instance, True) for field in fields}
            row[pk.attname] = key
            rows.append(row)
        bulk_insert_values(model, rows)
        for instance, key in zip(part, keys[start : start + chunk], strict=True):
            instance.pk = key
            instance._state.adding, instance._state.db = False, connection.alias


def bulk_insert_like(
    template: Model, rows: Sequence[dict[str, object]], *, chunk: int = 10_000
) -> list[int]:
    """Insert rows that are the unsaved `template` (its defaults, its auto_now fields set as
    save() sets them) with each row's own values (field attnames), `chunk` rows a statement;
    returns their primary keys in the rows' order. No model instance per row: for a catalog of
    100,000 new services, building them was most of the import."""
    if not rows:
        return []
    model = type(template)
    pk = model._meta.pk
    base = {
        field.attname: field.pre_save(template, True)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    keys = _next_keys(model, len(rows))
    for start in range(0, len(rows), chunk):
        bulk_insert_values(
            model,
            [
                {**row, pk.attname: key}
                for row, key in zip(
                    rows[start : start + chunk], keys[start : start + chunk], strict=True
                )
            ],
            same=base,
        )
    return keys
