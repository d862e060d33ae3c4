"""A balance move and its ledger row, in one statement: every order placed goes through here."""

from typing import TypeVar

from django.db import connection
from django.db.models import Model

from core.db.rows import insert_parts, mark_saved, placeholders, table

_E = TypeVar("_E", bound=Model)


def ledger_move(*, accounts: type[Model], entry: _E, account_id: int) -> _E | None:
    """Add `entry.amount` to the `balance` of the row `account_id` of `accounts` unless that
    would take it below zero, and insert the unsaved ledger row `entry` with the new balance as
    its `balance_after`; `entry`, saved as save() leaves it, or None (and nothing written) when
    refused.

    The conditional UPDATE locks the account's row until the caller's transaction ends, as
    SELECT … FOR UPDATE would, and the ledger row rides in the same round trip. No savepoint:
    nothing is written when it refuses, so the caller's transaction stays usable."""
    amount = entry.amount  # type: ignore[attr-defined]
    columns, values = insert_parts(entry, leave_out=["balance_after"])
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH moved AS (UPDATE {table(accounts)} SET "balance" = "balance" + %s '  # noqa: S608 - the models' own names
            'WHERE "id" = %s AND "balance" + %s >= 0 RETURNING "balance") '
            f'INSERT INTO {table(type(entry))} ({columns}, "balance_after") '
            f'SELECT {placeholders(values)}, moved."balance" FROM moved '
            'RETURNING "id", "balance_after"',
            [amount, account_id, amount, *values],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    mark_saved(entry, row[0])
    entry.balance_after = row[1]  # type: ignore[attr-defined]
    return entry
