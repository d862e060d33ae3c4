"""The reads of every API `add`, with SQL written once per process, and the catalog's version
and digest.

The reseller API's `add` reads an API key with its user, and a service with its provider, the
user's own rate and whether it has routes; the ORM took several times longer to build those
SELECTs than PostgreSQL took to answer them (docs/performance.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, QuerySet

from core.db.prepared import prepared_cursor
from core.db.rows import column_count, from_column, from_row, select_list, table

_U = TypeVar("_U", bound=Model)
_S = TypeVar("_S", bound=Model)


@dataclass(frozen=True)
class KeyLookup(Generic[_U]):
    """An unrevoked API key found by its lookup prefix, with its owner."""

    user: _U
    key_id: int
    digest: str
    last_used_at: datetime | None


def api_key_lookup(*, keys: type[Model], users: type[_U], prefix: str) -> KeyLookup[_U] | None:
    """The unrevoked key of `keys` whose `prefix` is `prefix`, with its user, in one query."""
    with prepared_cursor() as cursor:
        cursor.execute(_api_key_sql(keys, users), [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    key_id, digest, last_used_at = row[-3:]
    return KeyLookup(
        user=from_row(users, row[:-3]),
        key_id=key_id,
        digest=digest,
        last_used_at=from_column(keys, "last_used_at", last_used_at),
    )


@cache
def _api_key_sql(keys: type[Model], users: type[Model]) -> str:
    return (
        f'SELECT {select_list(users, "u")}, k."id", k."digest", k."last_used_at" '  # noqa: S608 - names from the models
        f"FROM {table(keys)} k JOIN {table(users)} u ON u.id = k.user_id "
        "WHERE k.prefix = %s AND k.revoked_at IS NULL"
    )


@dataclass(frozen=True)
class ServiceForOrder(Generic[_S]):
    """A service on sale (its `provider` read with it), the ordering user's own rate for it
    (None without one) and whether it has routes (when not, the order goes to its provider
    without reading them)."""

    service: _S
    customer_override: Decimal | None
    has_routes: bool


def service_for_order(
    *,
    services: type[_S],
    providers: type[Model],
    overrides: type[Model],
    routes: type[Model],
    service_id: int,
    user_id: int,
    child_panel_id: int | None,
) -> ServiceForOrder[_S] | None:
    """The service `service_id` if it and its provider are enabled, its provider sells to the
    panel `child_panel_id` (None: the parent), it is available and not held (the margin guard's
    `hold_reason` is empty), None otherwise; one query. `overrides` holds users' own rates (`user_id`, `service_id`, `rate`),
    `routes` a service's routes (`service_id`)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _service_for_order_sql(services, providers, overrides, routes),
            [user_id, service_id, child_panel_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return _service_from_row(services, providers, overrides, row)


def _service_from_row(
    services: type[_S], providers: type[Model], overrides: type[Model], row: Sequence[Any]
) -> ServiceForOrder[_S]:
    """`_service_columns`' values as read."""
    split = column_count(services)
    service = from_row(services, row[:split])
    service.provider = from_row(providers, row[split : split + column_count(providers)])  # type: ignore[attr-defined]
    override, has_routes = row[-2:]
    return ServiceForOrder(
        service=service,
        customer_override=from_column(overrides, "rate", override),
        has_routes=has_routes,
    )


def _service_columns(
    services: type[Model], providers: type[Model], overrides: type[Model], routes: type[Model]
) -> str:
    """The service `s`, its provider `p`, the rate of the user `user_id` (a parameter or a
    column) and whether the service has routes, in `_service_from_row` order."""
    return (
        f"{select_list(services, 's')}, {select_list(providers, 'p')}, "  # noqa: S608 - names from the models
        f"(SELECT o.rate FROM {table(overrides)} o "
        "WHERE o.service_id = s.id AND o.user_id = {user_id}), "
        f"EXISTS (SELECT 1 FROM {table(routes)} r WHERE r.service_id = s.id)"
    )


# What makes a service on sale to a panel's customers, with `{child_panel_id}` the panel.
_ON_SALE = (
    "s.is_enabled AND s.is_available AND s.hold_reason = '' "
    "AND p.is_enabled AND p.child_panel_id IS NOT DISTINCT FROM {child_panel_id}"
)


@cache
def _service_for_order_sql(
    services: type[Model], providers: type[Model], overrides: type[Model], routes: type[Model]
) -> str:
    columns = _service_columns(services, providers, overrides, routes).format(user_id="%s")
    return (
        f"SELECT {columns} "  # noqa: S608 - names from the models
        f"FROM {table(services)} s JOIN {table(providers)} p ON p.id = s.provider_id "
        f"WHERE s.id = %s AND {_ON_SALE.format(child_panel_id='%s')}"
    )


@dataclass(frozen=True)
class KeyWithService(Generic[_U, _S]):
    """An API key with its user, and the service an `add` names as `service_for_order` reads
    it for that user (None: not on sale to the user's panel)."""

    key: KeyLookup[_U]
    service: ServiceForOrder[_S] | None


def api_key_with_service_lookup(
    *,
    keys: type[Model],
    users: type[_U],
    prefix: str,
    services: type[_S],
    providers: type[Model],
    overrides: type[Model],
    routes: type[Model],
    service_id: int,
) -> KeyWithService[_U, _S] | None:
    """`api_key_lookup` and `service_for_order` for the key's user and panel in one query: an
    `add` names its service before its key is checked, and each statement costs a round trip
    and psycopg's and PostgreSQL's work per statement (docs/performance.md). None when no
    unrevoked key has `prefix`, whatever the service."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _api_key_with_service_sql(keys, users, services, providers, overrides, routes),
            [service_id, prefix],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    split = column_count(users) + 3
    key_id, digest, last_used_at = row[split - 3 : split]
    key = KeyLookup(
        user=from_row(users, row[: split - 3]),
        key_id=key_id,
        digest=digest,
        last_used_at=from_column(keys, "last_used_at", last_used_at),
    )
    # A service's id is never NULL: NULL is the outer join finding none on sale.
    if row[split] is None:
        return KeyWithService(key=key, service=None)
    return KeyWithService(
        key=key, service=_service_from_row(services, providers, overrides, row[split:])
    )


@cache
def _api_key_with_service_sql(
    keys: type[Model],
    users: type[Model],
    services: type[Model],
    providers: type[Model],
    overrides: type[Model],
    routes: type[Model],
) -> str:
    columns = _service_columns(services, providers, overrides, routes).format(user_id="u.id")
    return (
        f'SELECT {select_list(users, "u")}, k."id", k."digest", k."last_used_at", {columns} '  # noqa: S608 - names from the models
        f"FROM {table(keys)} k JOIN {table(users)} u ON u.id = k.user_id "
        f"LEFT JOIN ({table(services)} s JOIN {table(providers)} p ON p.id = s.provider_id) "
        f"ON s.id = %s AND {_ON_SALE.format(child_panel_id='u.child_panel_id')} "
        "WHERE k.prefix = %s AND k.revoked_at IS NULL"
    )


def tables_version(*querysets: QuerySet) -> tuple:
    """Changes whenever a row of one of `querysets` is added, deleted or saved (their models
    have an `updated_at` their writers move): one query over those rows only, so a panel's
    version reads its own rows, not every panel's (docs/child-panels.md)."""
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        sql, values = queryset.order_by().values("updated_at").query.sql_with_params()
        parts.append(f"(SELECT MAX(v.updated_at) FROM ({sql}) AS v)")  # noqa: S608 - the ORM's own SQL, its values as parameters
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS v)")  # noqa: S608
        params += [*values, *values]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return tuple(cursor.fetchone())


def rows_digest(queryset: QuerySet, fields: Sequence[str]) -> str:
    """A digest of `fields` of every row of `queryset`, with the row count: equal digests mean
    the same rows with the same values, short of a 64-bit collision. Computed by PostgreSQL in
    one pass (no row leaves the server); XOR of the rows' hashes, so the order does not matter.
    The rows must differ from each other (include the key): two equal rows cancel out."""
    try:
        sql, values = queryset.order_by().values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # a queryset known empty (`.none()`, `pk__in=[]`) has no SQL
        return "0:0000000000000000"
    with connection.cursor() as cursor:
        digest_sql = "SELECT COUNT(*), COALESCE(BIT_XOR(HASHTEXTEXTENDED(v::text, 0)), 0) FROM"
        # The ORM's own SQL, its values as parameters.
        cursor.execute(f"{digest_sql} ({sql}) AS v", values)  # noqa: S608
        count, digest = cursor.fetchone()
    return f"{count}:{digest & 0xFFFFFFFFFFFFFFFF:016x}"
