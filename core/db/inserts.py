"""A row inserted with the event that records it, and with its charge when it has one, in one
statement: every order placed pays a round trip per statement."""

from enum import Enum
from functools import cache
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Model, UniqueConstraint
from django.db.models.sql import Query

from core.db.ledger import RowMove, entry_saved, is_floor_refusal, moved_cte
from core.db.partitions import period_of_sql, period_subject_table
from core.db.partitions.keys import SKIP_TAKEN_FROM, key_is_skipped_when_taken
from core.db.prepared import prepared_cursor
from core.db.rows import field_parts, insert_parts, mark_saved, placeholders, table
from core.db.session import GENERIC_PLANS_SQL


def insert_with_event(
    *, row: Model, event: Model, link: str, unless_taken: str | None = None
) -> bool:
    """Insert the unsaved `row` and the unsaved `event` whose `link` (an attname, such as
    `order_id`) points at it. `row` is left as save() leaves it, and `event` gets its link.

    With `unless_taken`, the name of one of the row model's partial unique constraints, a row
    whose key that constraint already holds is not inserted (nor its event), and False is
    returned; the transaction stays usable, with no savepoint. A concurrent insert of the same
    key waits for the other transaction: PostgreSQL decides, not a read before the write."""
    sql, params, conflict_params = _row_with_event(row, event, link, unless_taken)
    with connection.cursor() if conflict_params else prepared_cursor() as cursor:
        cursor.execute(f'{sql} SELECT "id" FROM placed', params)  # noqa: S608 - the models' own names
        found = cursor.fetchone()
    if found is None:
        return False
    mark_saved(row, found[0])
    setattr(event, link, found[0])
    return True


class Inserted(Enum):
    TAKEN = "taken"  # the key was held: nothing was written
    PLACED = "placed"  # the row, its event, the move and its ledger row
    # The move was refused, no money moved: the row and its event were written (and the row has
    # its id), or, for a statement that is its own transaction, nothing was.
    REFUSED = "refused"


def insert_with_event_and_move(
    *,
    row: Model,
    event: Model,
    link: str,
    move: RowMove,
    unless_taken: str | None = None,
    alone: bool = False,
) -> Inserted:
    """`insert_with_event`, and in the same statement the ledger move `move` about the new row
    (core.db.ledger): an order, its Placed event and its charge in one round trip. The move is
    made only when the row is inserted; `move.entry` is saved as `ledger_move` leaves it.

    A refused move (the balance would go below zero) leaves the row and its event written, for
    the caller to take back (no savepoint: the transaction stays usable), and `move.entry`
    unsaved. One statement cannot both make the row depend on the move and the move on the row,
    and a refusal is the rare case: a placed order pays one statement instead of two.

    `alone`: the statement is its own transaction (the connection in autocommit, as the API's
    `add` runs it: no BEGIN and no COMMIT, two round trips fewer). The floor is then left to
    the account's check constraint (`core.db.ledger.floor_constraint`), so a refused move fails
    the whole statement and nothing at all is written: REFUSED with `row` unsaved."""
    if alone and connection.in_atomic_block:
        raise ValueError("alone: the statement would fail the caller's transaction on a refusal")
    sql, params, conflict_params = _row_with_event(row, event, link, unless_taken)
    entry = move.entry
    if period_subject_table(move.subject) != row._meta.db_table:
        raise ValueError(f"{move.subject} of {type(entry).__name__} names no {type(row).__name__}")
    moved_sql, moved_params = moved_cte(
        accounts=move.accounts,
        amount=entry.amount,  # type: ignore[attr-defined]
        account_id=move.account_id,
        column=move.column,
        may_go_negative=alone,
        only_if="EXISTS (SELECT FROM placed)",
    )
    # Its month is the row's, read as the event's is: a function of the row's id.
    period_sql, period_params = period_of_sql(row._meta.db_table, 'placed."id"')
    columns, values = insert_parts(
        entry, leave_out=[move.subject, "period", *move.id_in, "balance_after"]
    )
    named, named_values = field_parts(entry, [move.subject, "period", *move.id_in])
    # The row's id goes into each JSON field as `{"id": …}` merged into what the entry holds;
    # the subject and the month are the statement's own.
    id_params = named_values[2:]
    merged = "".join(", %s || jsonb_build_object('id', placed.\"id\")" for _ in move.id_in)
    try:
        found = _placed_and_entered(
            f"{sql}, {moved_sql}, entered AS (INSERT INTO {table(type(entry))} "  # noqa: S608 - the models' own names
            f'({columns}, {named}, "balance_after") '
            f'SELECT {placeholders(values)}, placed."id", {period_sql}{merged}, '
            "moved.balance_after FROM placed, moved "
            'RETURNING "id", "balance_after", "period") '
            'SELECT placed."id", entered."id", entered."balance_after", entered."period" '
            "FROM placed LEFT JOIN entered ON TRUE",
            [*params, *moved_params, *values, *period_params, *id_params],
            prepared=not conflict_params,
        )
    except IntegrityError as error:
        if alone and is_floor_refusal(error, move.accounts, move.column):
            return Inserted.REFUSED
        raise
    if found is None:
        return Inserted.TAKEN
    row_id, entry_id, balance_after, period = found
    mark_saved(row, row_id)
    setattr(event, link, row_id)
    if entry_id is None:
        return Inserted.REFUSED
    setattr(entry, move.subject, row_id)
    entry.period = period  # type: ignore[attr-defined]
    for attname in move.id_in:
        setattr(entry, attname, {**getattr(entry, attname), "id": row_id})
    entry_saved(entry, (entry_id, balance_after))
    return Inserted.PLACED


def _placed_and_entered(sql: str, params: list[Any], *, prepared: bool) -> tuple[Any, ...] | None:
    with prepared_cursor() if prepared else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# The event's key check against the partitioned orders, run at the commit, on its generic plan
# (core.db.session); set by the row's own statement, so it costs no round trip.
_GENERIC_KEY_CHECKS = f"(SELECT {GENERIC_PLANS_SQL}) AS generic_key_checks"


def _row_with_event(
    row: Model, event: Model, link: str, unless_taken: str | None
) -> tuple[str, list[Any], tuple[Any, ...]]:
    """`WITH placed AS (…), noted AS (…)`: the insert of `row` and of its `event`, its
    parameters, and the parameters of its `ON CONFLICT` (the statement is sent as text when
    there are any)."""
    row_columns, row_values = insert_parts(row)
    # An event's month follows its row's id, which this statement takes (core.db.partitions).
    period_sql, period_params = period_of_sql(row._meta.db_table, 'placed."id"')
    leave_out, extra_columns = [link], f', "{link}"'
    if getattr(event, "period", 0) is None:
        leave_out.append("period")
        extra_columns += ', "period"'
    else:
        period_sql, period_params = "", []
    event_columns, event_values = insert_parts(event, leave_out=leave_out)
    conflict, conflict_params, source = "", tuple[Any, ...](), f" FROM {_GENERIC_KEY_CHECKS}"
    if unless_taken is not None:
        conflict, conflict_params = _on_conflict_do_nothing(type(row), unless_taken)
        if not conflict:
            source = f"{SKIP_TAKEN_FROM}, {_GENERIC_KEY_CHECKS}"
    # The text varies with the model and the options only, so PostgreSQL can plan it once per
    # connection; an `ON CONFLICT … WHERE` inferring a partial index needs its predicate's values
    # in the text, which binding on the server would take out of it.
    sql = (
        f"WITH placed AS (INSERT INTO {table(type(row))} ({row_columns}) "  # noqa: S608 - the models' own names
        f'SELECT {placeholders(row_values)}{source}{conflict} RETURNING "id"), '
        f"noted AS (INSERT INTO {table(type(event))} ({event_columns}{extra_columns}) "
        f'SELECT {placeholders(event_values)}, placed."id"'
        f"{', ' + period_sql if period_sql else ''} FROM placed)"
    )
    return sql, [*row_values, *conflict_params, *event_values, *period_params], conflict_params


@cache
def _on_conflict_do_nothing(model: type[Model], name: str) -> tuple[str, tuple[Any, ...]]:
    """`ON CONFLICT (columns) WHERE predicate DO NOTHING` naming the partial unique index of
    constraint `name`: PostgreSQL infers a partial index from its columns and predicate."""
    constraint = next((c for c in model._meta.constraints if c.name == name), None)
    if constraint is None:
        # A key a partitioned table keeps in a table of its own (core.db.partitions.keys): its
        # trigger skips the row itself when the insert asks (SKIP_TAKEN_FROM). Any other name
        # is a mistake that would not show: the flag would skip nothing here, and could stay
        # set for a later insert of the transaction to be dropped silently.
        if not key_is_skipped_when_taken(table=model._meta.db_table, name=name):
            raise ValueError(
                f"{name} is neither a partial unique constraint of {model.__name__} nor a key "
                "its table's triggers skip when taken"
            )
        return "", ()
    if not isinstance(constraint, UniqueConstraint) or constraint.condition is None:
        raise ValueError(f"{name} is not a partial unique constraint of {model.__name__}")
    fields = {field.name: field for field in model._meta.concrete_fields}
    columns = ", ".join(
        connection.ops.quote_name(str(fields[field_name].column))
        for field_name in constraint.fields
    )
    query = Query(model=model, alias_cols=False)
    compiler = query.get_compiler(connection=connection)
    predicate, params = query.build_where(constraint.condition).as_sql(compiler, connection)
    return f" ON CONFLICT ({columns}) WHERE {predicate} DO NOTHING", tuple(params)
