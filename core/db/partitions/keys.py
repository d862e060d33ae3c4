"""Unique keys a partitioned table cannot hold itself, kept by triggers in small plain tables.

PostgreSQL wants the partition key in every unique index of a partitioned table; a key such as
(user, client_ref) of orders partitioned by id would then be unique within one month only. So
each such key lives in a plain table of its own (`order_id` and the key's columns, unique on the
key, under the constraint's old name), written by triggers on the partitioned table in the same
statement as the row: a replay or a race meets the very same unique index, with the same name
in its error, and waits for the other transaction as before. No caller needs to know.

A key with `is_skipped_when_taken` (one open order per link) behaves as the `INSERT … ON
CONFLICT DO NOTHING` it replaces when the insert asks for it (`SKIP_TAKEN_FROM`): an insert whose
key is taken inserts nothing and returns no row. Any other insert of a taken key fails as it
always did, so no row is ever dropped without its writer knowing. A key whose condition stops
holding (the order became final) leaves its table.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


@dataclass(frozen=True)
class Key:
    """A unique key of the partitioned table kept in `table` (columns `owner` plus `columns`,
    the same names as in the partitioned table). `condition` (SQL over the row as `{row}`,
    None for "the key's columns are all set") says when a row holds its key."""

    table: str
    columns: tuple[str, ...]
    condition: str | None = None
    condition_columns: tuple[str, ...] = ()
    is_skipped_when_taken: bool = False

    def holds(self, row: str) -> str:
        present = " AND ".join(f'{row}."{column}" IS NOT NULL' for column in self.columns)
        if self.condition is None:
            return f"({present})"
        return f"({present} AND {self.condition.format(row=row)})"

    def values(self, row: str) -> str:
        return ", ".join(f'{row}."{column}"' for column in self.columns)

    def names(self) -> str:
        return ", ".join(f'"{column}"' for column in self.columns)


# `INSERT INTO t (…) SELECT …` + this: the row skips itself when a key with
# `is_skipped_when_taken` is taken. The flag is set before the row reaches the trigger, which
# clears it, so it covers that one row only.
SKIP_TAKEN_FROM = " FROM (SELECT set_config('panel.skip_taken', 'on', true)) AS skip_taken"


# How the insert trigger begins the insert of a key it skips when taken: key_is_skipped_when_taken
# looks for it in the installed function.
_IF_SKIP = "IF skip THEN "


def _insert_into(key_table: str) -> str:
    return f'INSERT INTO "{key_table}"'


def _insert(key: Key, owner: str) -> str:
    columns, values = key.names(), key.values("NEW")
    return f'{_insert_into(key.table)} ("{owner}", {columns}) VALUES (NEW.id, {values})'


def _delete(key: Key, owner: str) -> str:
    return f'DELETE FROM "{key.table}" WHERE "{owner}" = OLD.id;'  # noqa: S608 - the caller's names


def _leaves(key: Key) -> str:
    """When an update takes the row's key out of its table: it held one, and not the same one now."""
    same = f"({key.values('OLD')}) IS NOT DISTINCT FROM ({key.values('NEW')})"
    return f"({key.holds('OLD')} AND NOT ({key.holds('NEW')} AND {same}))"


def _enters(key: Key) -> str:
    """When an update puts the row's key into its table: it holds one, and did not hold it."""
    same = f"({key.values('OLD')}) IS NOT DISTINCT FROM ({key.values('NEW')})"
    return f"({key.holds('NEW')} AND NOT ({key.holds('OLD')} AND {same}))"


def _update_trigger(table: str, keys: list[Key]) -> str:
    """The update trigger, run only for a row whose update moves one of its keys: exactly what
    the function would act on. A condition's column changing is not enough: a poll's status
    change of an order with no link (or from one open status to another) then calls no
    function and queues no after-trigger event (docs/performance.md, "A million polled
    orders, fifth pass")."""
    moves = " OR ".join(f"{_leaves(key)} OR {_enters(key)}" for key in keys)
    return (
        f'CREATE TRIGGER "{table}_keys_update" AFTER UPDATE ON "{table}" '
        f'FOR EACH ROW WHEN ({moves}) EXECUTE FUNCTION "{table}_keys_update"()'
    )


def keys_update_trigger_narrow(
    schema_editor: BaseDatabaseSchemaEditor, *, table: str, keys: list[Key]
) -> None:
    """Replace the update trigger keys_install made before it ran only when a key moves."""
    schema_editor.execute(f'DROP TRIGGER "{table}_keys_update" ON "{table}"')
    schema_editor.execute(_update_trigger(table, keys))


def keys_update_trigger_widen(
    schema_editor: BaseDatabaseSchemaEditor, *, table: str, keys: list[Key]
) -> None:
    """keys_update_trigger_narrow undone: the trigger runs whenever a watched column changes."""
    watched = sorted({c for key in keys for c in (*key.columns, *key.condition_columns)})
    old = ", ".join(f'OLD."{column}"' for column in watched)
    new = ", ".join(f'NEW."{column}"' for column in watched)
    schema_editor.execute(f'DROP TRIGGER "{table}_keys_update" ON "{table}"')
    schema_editor.execute(
        f'CREATE TRIGGER "{table}_keys_update" AFTER UPDATE ON "{table}" '
        f"FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) "
        f'EXECUTE FUNCTION "{table}_keys_update"()'
    )


def keys_install(
    schema_editor: BaseDatabaseSchemaEditor, *, table: str, owner: str, keys: list[Key]
) -> None:
    """The triggers that keep `keys` of the partitioned `table` (ids in each key table's
    `owner` column), and the keys of the rows already there."""
    on_insert = [
        "skip := coalesce(current_setting('panel.skip_taken', true), '') = 'on'; "
        "IF skip THEN PERFORM set_config('panel.skip_taken', '', true); END IF;"
    ]
    for key in keys:
        if key.is_skipped_when_taken:
            on_insert.append(
                f"IF {key.holds('NEW')} THEN {_IF_SKIP}{_insert(key, owner)} "
                "ON CONFLICT DO NOTHING; IF NOT FOUND THEN RETURN NULL; END IF; "
                f"ELSE {_insert(key, owner)}; END IF; END IF;"
            )
    on_insert += [
        f"IF {key.holds('NEW')} THEN {_insert(key, owner)}; END IF;"
        for key in keys
        if not key.is_skipped_when_taken
    ]
    on_update = [
        f"IF {_leaves(key)} THEN {_delete(key, owner)} END IF; "
        f"IF {_enters(key)} THEN {_insert(key, owner)}; END IF;"
        for key in keys
    ]
    on_delete = [_delete(key, owner) for key in keys]
    any_key = " OR ".join(key.holds("OLD") for key in keys)
    schema_editor.execute(
        f"""
        CREATE FUNCTION "{table}_keys_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE skip boolean; BEGIN {" ".join(on_insert)} RETURN NEW; END $$;
        CREATE FUNCTION "{table}_keys_update"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {" ".join(on_update)} RETURN NULL; END $$;
        CREATE FUNCTION "{table}_keys_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {" ".join(on_delete)} RETURN NULL; END $$;
        CREATE TRIGGER "{table}_keys_insert" BEFORE INSERT ON "{table}"
            FOR EACH ROW EXECUTE FUNCTION "{table}_keys_insert"();
        {_update_trigger(table, keys)};
        CREATE TRIGGER "{table}_keys_delete" AFTER DELETE ON "{table}"
            FOR EACH ROW WHEN ({any_key}) EXECUTE FUNCTION "{table}_keys_delete"();
        """
    )
    for key in keys:
        schema_editor.execute(
            f'INSERT INTO "{key.table}" ("{owner}", {key.names()}) '  # noqa: S608 - the caller's names
            f'SELECT id, {key.values(table)} FROM "{table}" WHERE {key.holds(table)}'
        )


def key_is_skipped_when_taken(*, table: str, name: str) -> bool:
    """Whether the triggers installed on `table` skip a row whose key under the unique
    constraint `name` is taken (its Key has `is_skipped_when_taken`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.relname, f.prosrc FROM pg_constraint c "
            "JOIN pg_class k ON k.oid = c.conrelid JOIN pg_proc f ON f.proname = %s "
            "WHERE c.conname = %s AND c.contype = 'u'",
            [f"{table}_keys_insert", name],
        )
        found = cursor.fetchall()
    return any(f"{_IF_SKIP}{_insert_into(key_table)} " in source for key_table, source in found)
