"""Model rows read and written with SQL written by hand: the building blocks of the other
modules' statements.

The column lists, the values and their conversions come from the models, so a new field needs
no change here, and the instances are the ORM's own (`Model.from_db`, `Field.pre_save`), as a
queryset would have read or written them.
"""

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, DateTimeField, Field, Model

_M = TypeVar("_M", bound=Model)
_Converter = Callable[[Any, Any, Any], Any]


def select_list(model: type[Model], alias: str) -> str:
    """Every concrete column of `model` from the table aliased `alias`, in `from_row` order."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def column_count(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


@cache
def table(model: type[Model]) -> str:
    """The model's table name, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def insert_parts(instance: Model, *, leave_out: Iterable[str] = ()) -> tuple[str, list[Any]]:
    """The quoted column list and the values `save()` would insert for the unsaved `instance`
    (setting its auto_now fields as save() does), without its primary key and the attnames in
    `leave_out`, which the caller's statement supplies."""
    columns, plan = _insert_plan(type(instance), frozenset(leave_out))
    db = _wrapper()
    values = []
    for field, attname, default, prepared in plan:
        if attname is None:
            values.append(field.get_db_prep_save(field.pre_save(instance, True), db))
            continue
        value = getattr(instance, attname)
        # Most of an order's columns keep their default, and the same object converts to the
        # same parameter: converting every column was most of building an `add`'s rows
        # (docs/performance.md).
        values.append(prepared if value is default else field.get_db_prep_save(value, db))
    return columns, values


def field_parts(instance: Model, attnames: Sequence[str]) -> tuple[str, list[Any]]:
    """The quoted columns of the fields `attnames` of `instance`, and the values save() would
    write for them: the few a caller's statement writes apart from `insert_parts`'s."""
    fields = _fields_by_attname(type(instance))
    db = _wrapper()
    columns = ", ".join(f'"{fields[attname].column}"' for attname in attnames)
    values = [
        fields[attname].get_db_prep_save(getattr(instance, attname), db) for attname in attnames
    ]
    return columns, values


@cache
def _fields_by_attname(model: type[Model]) -> dict[str, "Field[Any, Any]"]:
    return {field.attname: field for field in model._meta.concrete_fields}


def _wrapper() -> BaseDatabaseWrapper:
    """This thread's connection itself: `django.db.connection` is a proxy that looks it up on
    every attribute read, and a row's values read it once per field."""
    return connections[DEFAULT_DB_ALIAS]


_NO_DEFAULT = object()
# Defaults whose conversion may be kept: immutable, so the object an instance holds is the
# object converted once.
_IMMUTABLE = (type(None), bool, int, str, Decimal)
_PlanStep = tuple["Field[Any, Any]", str | None, object, Any]


@cache
def _insert_plan(model: type[Model], leave_out: frozenset[str]) -> tuple[str, list[_PlanStep]]:
    """The quoted columns, and per field: its attname (None when the field computes its value
    on save, as auto_now does), the default an unsaved instance holds when it was given no
    value (Model.__init__ takes it from `get_default()`: the same object every time), and that
    default converted for the database."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in leave_out
    ]
    db = _wrapper()
    plan: list[_PlanStep] = []
    for field in fields:
        if _computes_on_save(field):
            plan.append((field, None, _NO_DEFAULT, None))
            continue
        default = _NO_DEFAULT
        if not (field.has_default() and callable(field.default)):
            default = field.get_default()
        if not isinstance(default, _IMMUTABLE):
            plan.append((field, field.attname, _NO_DEFAULT, None))
            continue
        plan.append((field, field.attname, default, field.get_db_prep_save(default, db)))
    return ", ".join(f'"{field.column}"' for field in fields), plan


def _computes_on_save(field: "Field[Any, Any]") -> bool:
    """Whether `pre_save` does more than read the attribute: auto_now, auto_now_add, or a
    field class's own (a date field without either reads it as any field does)."""
    pre_save = type(field).pre_save
    if pre_save in (DateField.pre_save, DateTimeField.pre_save):
        return bool(field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
    return pre_save is not Field.pre_save


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def mark_saved(instance: Model, pk: object) -> None:
    """What save() leaves on an instance it inserted."""
    instance.pk = pk
    instance._state.adding, instance._state.db = False, connection.alias


def from_row(model: type[_M], values: Sequence[object]) -> _M:
    """An instance of `model` from the values of `select_list(model, …)`, converted as a
    queryset converts them (a JSON field's text, for one)."""
    if len(values) != column_count(model):
        raise ValueError(f"{len(values)} values for the {column_count(model)} columns of {model}")
    db = _wrapper()
    converted = list(values)
    # Only the few columns that have converters are visited.
    for index, column, converters in _converted_columns(model):
        value = converted[index]
        for converter in converters:
            value = converter(value, column, db)
        converted[index] = value
    return model.from_db(db.alias, _attnames(model), converted)


def from_column(model: type[Model], attname: str, value: object) -> Any:
    """One column of `model` read by hand, converted as a queryset converts it."""
    column, converters = _column_converters(model, attname)
    db = _wrapper()
    for converter in converters:
        value = converter(value, column, db)
    return value


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _column_converters(model: type[Model], attname: str) -> tuple[Any, list[_Converter]]:
    field = cast("Field[Any, Any]", model._meta.get_field(attname))
    column = field.get_col(model._meta.db_table)
    return column, column.get_db_converters(_wrapper())


@cache
def _converted_columns(model: type[Model]) -> list[tuple[int, Any, list[_Converter]]]:
    columns = [
        (index, *_column_converters(model, field.attname))
        for index, field in enumerate(model._meta.concrete_fields)
    ]
    return [(index, column, converters) for index, column, converters in columns if converters]
