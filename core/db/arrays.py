"""PostgreSQL array literals: a column's values for many rows as one text parameter.

psycopg adapts a list element by element in Python, which for a poll's thousand-row chunks
cost more than the database's own work; joining the text here is several times cheaper. The
parameter is cast to the column's array type in the statement, so PostgreSQL parses each
element with that type's own input function.
"""

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import cast


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal (`{1,NULL,"In progress"}`) for one parameter."""
    values = values if isinstance(values, list) else list(values)
    if not values:
        return "{}"
    kinds = set(map(type, values))
    # Columns of one plain type (ids, counts, amounts, texts, timestamps), with or without
    # NULLs, are joined in one go: most of a poll's arrays are, and the per-element dispatch
    # below was the cost of building them.
    if kinds == {int} or kinds == {Decimal}:
        return "{" + ",".join(map(str, values)) + "}"
    if kinds <= _NUMBERS:
        return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"
    if kinds <= _TIMES and all(v is None or cast("datetime", v).tzinfo is UTC for v in values):
        times = cast("list[datetime | None]", values)
        return "{" + ",".join(["NULL" if v is None else _utc_text(v) for v in times]) + "}"
    if all(issubclass(kind, str) for kind in kinds - _NONE):
        texts = cast("list[str | None]", values)
        whole = "".join([text for text in texts if text is not None])
        if "\\" not in whole and '"' not in whole:
            if _NONE.isdisjoint(kinds):
                return '{"' + '","'.join(cast("list[str]", texts)) + '"}'
            return "{" + ",".join(["NULL" if t is None else '"' + t + '"' for t in texts]) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


_NONE = frozenset({type(None)})
# Types whose `str` is the text their column's input function reads, unquoted.
_NUMBERS = frozenset({int, Decimal, type(None)})
_TIMES = frozenset({datetime, type(None)})


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    text = _text(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str:
    """A value as the text its column type's input function reads (unquoted)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return _utc_text(value) if value.tzinfo is UTC else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@lru_cache(maxsize=256)
def _utc_text(value: datetime) -> str:
    # A chunk's timestamps are a few values derived from one `now`, repeated on every row.
    # UTC only: equal datetimes in other zones (or folds) may print differently.
    return value.isoformat()


# Types whose equal values always print the same text; others (Decimal("1.0") == Decimal("1"),
# {"a": 1} == {"a": True}, one instant in two zones) count as constant only when identical.
_EQUAL_IS_SAME = frozenset({str, int, bool, type(None)})
_CONTAINERS = frozenset({dict, list})


def is_constant(values: list[object]) -> bool:
    """Whether every row holds the same value (`values` is not empty)."""
    first = values[0]
    if values.count(first) != len(values):
        return False
    # Each test in C over the whole column (`map`), not a Python step per row: a poll chunk
    # asks this of a dozen columns of a thousand rows each.
    if type(first) in _EQUAL_IS_SAME or (type(first) in _CONTAINERS and not first):
        # (empty JSON, an event's memo parameters when it has none: always the same text)
        return set(map(type, values)) == {type(first)}
    return set(map(id, values)) == {id(first)}


def scalar_text(value: object) -> str | None:
    """One value for a `%s::type` parameter, as the text an array element would carry."""
    return None if value is None else _text(value)
