"""A balance move and its ledger row, in one statement: every order placed goes through here."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import IntegrityError
from django.db.models import CheckConstraint, Model, Q

from core.db.partitions import Sql
from core.db.prepared import prepared_cursor
from core.db.rows import insert_parts, mark_saved, placeholders, table

_E = TypeVar("_E", bound=Model)


def ledger_move(
    *,
    accounts: type[Model],
    entry: _E,
    account_id: int,
    column: str = "balance",
    may_go_negative: bool = False,
    computed: Mapping[str, Sql] | None = None,
) -> _E | None:
    """Add `entry.amount` to the `column` (the balance) of the row `account_id` of `accounts`
    unless that would take it below zero, and insert the unsaved ledger row `entry` with the new
    balance as its `balance_after`; `entry`, saved as save() leaves it, or None (and nothing
    written) when refused. `may_go_negative` lifts the floor (the commission ledger's
    reversals: money already paid out becomes owed) and then refuses only a missing account.
    `computed` names columns (attnames) the statement computes, each as SQL and its
    parameters (the balance ledger's period, which the database reads from its registry);
    `entry` gets the values written.

    The conditional UPDATE locks the account's row until the caller's transaction ends, as
    SELECT … FOR UPDATE would, and the ledger row rides in the same round trip. No savepoint:
    nothing is written when it refuses, so the caller's transaction stays usable."""
    computed = computed or {}
    columns, values = insert_parts(entry, leave_out=["balance_after", *computed])
    moved_sql, moved_params = moved_cte(
        accounts=accounts,
        amount=entry.amount,  # type: ignore[attr-defined]
        account_id=account_id,
        column=column,
        may_go_negative=may_go_negative,
    )
    column_of = {field.attname: field.column for field in entry._meta.concrete_fields}
    extra_columns = "".join(f', "{column_of[attname]}"' for attname in computed)
    extra_sql = "".join(f", {sql}" for sql, _params in computed.values())
    extra_params = [param for _sql, params in computed.values() for param in params]
    with prepared_cursor() as cursor:
        cursor.execute(
            f"WITH {moved_sql} "  # noqa: S608 - the models' own names
            f'INSERT INTO {table(type(entry))} ({columns}, "balance_after"{extra_columns}) '
            f"SELECT {placeholders(values)}, moved.balance_after{extra_sql} FROM moved "
            f'RETURNING "id", "balance_after"{extra_columns}',
            [*moved_params, *values, *extra_params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    entry_saved(entry, row)
    for attname, value in zip(computed, row[2:], strict=True):
        setattr(entry, attname, value)
    return entry


def moved_cte(
    *,
    accounts: type[Model],
    amount: object,
    account_id: int,
    column: str = "balance",
    may_go_negative: bool = False,
    only_if: str = "",
) -> tuple[str, list[Any]]:
    """The CTE `moved` of `ledger_move`, for a statement that inserts the ledger row itself: one
    row (`balance_after`) when the move was made, none when refused. `only_if`, SQL, is one more
    condition of the move."""
    name = accounts._meta.get_field(column).column  # type: ignore[union-attr]
    floor = "" if may_go_negative else f' AND "{name}" + %s >= 0'
    floor_params = [] if may_go_negative else [amount]
    condition = f" AND {only_if}" if only_if else ""
    return (
        f'moved AS (UPDATE {table(accounts)} SET "{name}" = "{name}" + %s '  # noqa: S608 - the models' own names
        f'WHERE "id" = %s{floor}{condition} RETURNING "{name}" AS balance_after)',
        [amount, account_id, *floor_params],
    )


@cache
def floor_constraint(accounts: type[Model], column: str = "balance") -> str:
    """The name of the check constraint of `accounts` that keeps `column` at zero or above: the
    floor a statement that is its own transaction leaves to the database (`moved_cte` without
    its floor), so that a refused move fails the whole statement."""
    floor = Q(**{f"{column}__gte": 0})
    for constraint in accounts._meta.constraints:
        if isinstance(constraint, CheckConstraint) and constraint.condition == floor:
            return constraint.name
    raise ValueError(f"{accounts.__name__} has no check constraint keeping {column} >= 0")


def is_floor_refusal(error: IntegrityError, accounts: type[Model], column: str = "balance") -> bool:
    """Whether `error` is `accounts`' floor refusing a move (and not another constraint)."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == floor_constraint(accounts, column)


def entry_saved(entry: Model, returned: tuple[Any, ...]) -> None:
    """What the statement's `RETURNING "id", "balance_after"` leaves on the ledger row."""
    mark_saved(entry, returned[0])
    entry.balance_after = returned[1]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RowMove:
    """A ledger move about a row that the same statement inserts (`core.db.inserts`): the move
    of `ledger_move`, floor and all, whose `entry` names that row in its `subject` column (an
    attname such as `order_id`) and takes its month from it; `id_in` lists the JSON fields of
    `entry` (attnames) that get the row's new id under the key `id` (a memo's parameters)."""

    accounts: type[Model]
    account_id: int
    entry: Model
    subject: str
    id_in: tuple[str, ...] = ()
    column: str = "balance"
