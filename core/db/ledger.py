"""A balance move and its ledger row, in one statement: every order placed goes through here."""

from collections.abc import Mapping
from typing import TypeVar

from django.db.models import Model

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
    amount = entry.amount  # type: ignore[attr-defined]
    computed = computed or {}
    columns, values = insert_parts(entry, leave_out=["balance_after", *computed])
    name = accounts._meta.get_field(column).column  # type: ignore[union-attr]
    floor = "" if may_go_negative else f' AND "{name}" + %s >= 0'
    floor_params = [] if may_go_negative else [amount]
    column_of = {field.attname: field.column for field in entry._meta.concrete_fields}
    extra_columns = "".join(f', "{column_of[attname]}"' for attname in computed)
    extra_sql = "".join(f", {sql}" for sql, _params in computed.values())
    extra_params = [param for _sql, params in computed.values() for param in params]
    with prepared_cursor() as cursor:
        cursor.execute(
            f'WITH moved AS (UPDATE {table(accounts)} SET "{name}" = "{name}" + %s '  # noqa: S608 - the models' own names
            f'WHERE "id" = %s{floor} RETURNING "{name}") '
            f'INSERT INTO {table(type(entry))} ({columns}, "balance_after"{extra_columns}) '
            f'SELECT {placeholders(values)}, moved."{name}"{extra_sql} FROM moved '
            f'RETURNING "id", "balance_after"{extra_columns}',
            [amount, account_id, *floor_params, *values, *extra_params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    mark_saved(entry, row[0])
    entry.balance_after = row[1]  # type: ignore[attr-defined]
    for attname, value in zip(computed, row[2:], strict=True):
        setattr(entry, attname, value)
    return entry
