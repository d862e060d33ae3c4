"""A poll claim: due rows read and leased in one statement, and the ids live leases hold.

A lease is a row of a lease model with `holder`, `model` (the leased model's name), `until`
and `ids` (a JSON list of the leased rows' ids); orders' `PollLease` is the one there is.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL

from core.db.rows import table


@dataclass
class Claim:
    """The rows a claim read (as `.values()` gives them) and the id of the lease on them, None
    when there were none.

    The rows are converted from the database's tuples when first read: claims take turns under
    a lock, so a caller that reads them after its transaction ends lets the next claim start
    without waiting for a thousand rows' conversions."""

    lease_id: int | None
    _fetched: list[tuple[Any, ...]] = field(default_factory=list, repr=False)
    # The compiler that wrote the claim's SELECT, which converts its columns as `.values()`
    # would (JSON, for one), and the columns' names.
    _compiler: Any = field(default=None, repr=False)
    _names: list[str] = field(default_factory=list, repr=False)

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        if not self._fetched:
            return []
        values = self._compiler.results_iter(results=[[row[1:] for row in self._fetched]])
        return [dict(zip(self._names, row, strict=True)) for row in values]


@dataclass(frozen=True)
class Sweep:
    """A claim that takes due rows in the order of (`at`, primary key) at one `scope` (a
    provider): its lease records the last row it took, and the scope's next claim starts after
    the newest lease's (`after_leased`). `at` must be among the claim's selected columns."""

    scope: int
    at: str


def claim_with_lease(
    due: QuerySet, *, leases: type[Model], holder: str, until: datetime, sweep: Sweep | None = None
) -> Claim:
    """The rows of `due` (a `.values()` queryset) and a new lease on them held by `holder`
    until `until`, in one statement: claims take turns under a lock, and the next claim waits
    for as long as this one's round trips take. The lease commits with the caller's
    transaction."""
    compiler = due.query.get_compiler(due.db)
    select_sql, params = compiler.as_sql()
    key = due.model._meta.pk.column
    if sweep is None:
        last_sql, last_params = "NULL, NULL, NULL", []
    else:
        last = f'FROM claimed ORDER BY "{sweep.at}" DESC, "{key}" DESC LIMIT 1'
        last_sql = f'%s, (SELECT "{sweep.at}" {last}), (SELECT "{key}" {last})'
        last_params = [sweep.scope]
    sql = (
        f"WITH claimed AS ({select_sql}), "  # noqa: S608 - the ORM's own SQL and the model's table
        f"lease AS (INSERT INTO {table(leases)} "
        '("holder", "model", "until", "ids", "provider_id", "after_at", "after_id") '
        f'SELECT %s, %s, %s, jsonb_agg("{key}"), {last_sql} FROM claimed '
        'HAVING count(*) > 0 RETURNING "id") '
        'SELECT (SELECT "id" FROM lease), claimed.* FROM claimed'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, holder, due.model.__name__, until, *last_params])
        fetched = cursor.fetchall()
    if not fetched:
        return Claim(lease_id=None)
    query = due.query
    names = list(
        query.selected or [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    return Claim(lease_id=fetched[0][0], _fetched=fetched, _compiler=compiler, _names=names)


def after_leased(*, leases: type[Model], model: type[Model], sweep: Sweep, now: datetime) -> RawSQL:
    """A condition for a sweep's claim: its rows come after the last row of the scope's newest
    live lease, in the order of (`sweep.at`, primary key); every row when none is live (a
    round's first claim, or once its leases ended). The rows between are leased, written since
    (not due again this round) or came due since, which the next round takes: skipping them
    saves each claim a walk past every row the live leases hold, as many as the chunks in
    flight (most of a claim's time at a million live orders, docs/performance.md). Two scalar
    subqueries, not one row's: PostgreSQL takes a comparison of rows as the due index's bound
    only when both sides are rows of values."""
    newest = (
        f'FROM {table(leases)} WHERE "model" = %s AND "provider_id" = %s '  # noqa: S608 - names come from the model
        'AND "until" > %s AND "after_at" IS NOT NULL '
        'ORDER BY "after_at" DESC, "after_id" DESC LIMIT 1'
    )
    own = table(model)
    at = model._meta.get_field(sweep.at).column  # type: ignore[union-attr]
    key = model._meta.pk.column
    sql = (
        f'({own}."{at}", {own}."{key}") > ('
        f"COALESCE((SELECT \"after_at\" {newest}), '-infinity'), "
        f'COALESCE((SELECT "after_id" {newest}), 0))'
    )
    scope = [model.__name__, sweep.scope, now]
    return RawSQL(sql, [*scope, *scope], output_field=BooleanField())  # noqa: S611 - values are parameters


def leased_ids(
    *, leases: type[Model], model: type[Model], now: datetime, named_only: bool = False
) -> RawSQL:
    """The ids of `model` under a live lease, as a subquery for `.exclude(pk__in=…)`: the
    database hashes it once per claim instead of the claim sending the ids back and forth.

    `named_only`: only the leases of claims of named rows, not a sweep's. For a sweep's claim,
    which starts past every row its scope's sweep leases hold (`after_leased`): hashing their
    ids too (a thousand per chunk in flight, expanded from JSON) was half of what was left of
    its time. A row's place in the sweep's order moves only when it is written, which ends its
    lease."""
    sql = (
        f'SELECT (jsonb_array_elements_text("ids"))::bigint FROM {table(leases)} '  # noqa: S608 - names come from the model
        'WHERE "model" = %s AND "until" > %s'
    )
    if named_only:
        sql += ' AND "after_at" IS NULL'
    return RawSQL(sql, [model.__name__, now])  # noqa: S611 - values are parameters
