"""Statements PostgreSQL parses and plans once per connection (server-side prepared).

Django binds parameters on the client and sends every statement as new text, which PostgreSQL
parses and plans each time; for the short reads every API request makes, planning costs more
than running them (docs/performance.md). A statement run through `prepared_cursor()` is
prepared on the connection the first time and then only bound and executed. The connection is
kept between requests (CONN_MAX_AGE), so are its prepared statements.

Behind a transaction-mode PgBouncer this needs PgBouncer 1.22 or later with
`max_prepared_statements` set (docs/scaling.md); PANEL_DB_PREPARED_STATEMENTS=off sends them
as text again.
"""

import itertools
import re
from functools import lru_cache
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import CursorDebugWrapper
from django.db.backends.utils import CursorWrapper

# psycopg prepares a statement on its own after this many runs: only prepare=True does here.
_NEVER_BY_COUNT = 2**31


class _PreparedCursor(psycopg.RawCursor[Any]):
    """Binds parameters on the server, which a prepared statement needs, and prepares every
    statement it runs (Django turns psycopg's automatic preparation off).

    Statements are written with `%s` placeholders, as for any Django cursor, and sent with
    PostgreSQL's own `$1, $2…`, numbered once per text: psycopg would find the placeholders
    again on every run of a statement longer than 4,096 bytes or with more than 50
    parameters (it caches only shorter ones), such as an order inserted with its event and
    its charge."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> "_PreparedCursor":
        return super().execute(_numbered(query), params, prepare=True, **options)


@lru_cache(maxsize=256)
def _numbered(query: str) -> str:
    """`query` with each `%s` as `$1, $2…` and `%%` as `%`; any other placeholder (`%(name)s`)
    is refused rather than sent as text."""
    numbers = itertools.count(1)

    def number(match: re.Match[str]) -> str:
        if match[0] == "%%":
            return "%"
        if match[0] == "%s":
            return f"${next(numbers)}"
        raise ValueError(f"only %s placeholders in a prepared statement, not {match[0]!r}")

    return _PERCENT.sub(number, query)


_PERCENT = re.compile("%.?", re.DOTALL)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Logs a statement as written, placeholders and all: Django reads the text it logs back
    from a client-binding cursor, and this one binds on the server."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor() -> CursorWrapper:
    """A cursor of the default connection, wrapped as `connection.cursor()` wraps its own (the
    same error translation, and the same query logging and execute wrappers), whose statements
    are prepared. Parameters keep the types they have in Python: a statement must not rely
    on text being cast to another type."""
    # This thread's connection itself: `django.db.connection` looks it up on every attribute read.
    wrapper = connections[DEFAULT_DB_ALIAS]
    if not settings.PANEL_DB_PREPARED_STATEMENTS:
        return wrapper.cursor()
    # As connection.cursor() does: a connection that went away (a restart, an idle timeout)
    # is replaced, not handed over to fail the request.
    wrapper.validate_thread_sharing()
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    database = wrapper.connection
    if database.prepare_threshold is None:
        # Django switches preparing off (None) for the connection; psycopg then ignores even an
        # explicit prepare=True. Django's own cursors bind on the client and never prepare
        # (psycopg still counts their statements' texts for its cache, without preparing them).
        database.prepare_threshold = _NEVER_BY_COUNT
    with wrapper.wrap_database_errors:
        raw = _PreparedCursor(database)
    if wrapper.queries_logged:
        return _PreparedDebugWrapper(raw, wrapper)
    return CursorWrapper(raw, wrapper)
