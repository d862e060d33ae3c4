"""How the database's values become Python's: the timestamps of every query loaded in C.

Django loads each `timestamp with time zone` through its own subclass of psycopg's pure-Python
loader, so that the values carry the connection's time zone: every column of every result
builds a loader that looks the session's time zone and date style up, and every value is
parsed by a regular expression in Python. On an API `add` that was about a tenth of the
request's Python (the key's user and service carry a dozen timestamps), and every poll claim
and page pays it per row (docs/performance.md, "Timestamps loaded in C").

psycopg's own loader, in C when psycopg's binary build is installed, already gives the value
in the session's time zone, which Django sets to UTC: the same datetimes, with the very
`datetime.timezone.utc` Django's loader gives them (psycopg maps the session's "UTC" to it).
"""

from datetime import UTC
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import abc
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format

_TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


def _compiled_loader() -> type[abc.Loader] | None:
    """psycopg's text loader of timestamps with time zone, when it is the compiled one."""
    loader = psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    if loader is None or loader.__module__.startswith("psycopg.types"):
        return None  # the pure-Python build: Django's own loader is no slower
    return loader


def _utc_loader(compiled: type[abc.Loader]) -> type[Loader]:
    class UtcTimestamptzLoader(Loader):
        """The compiled loader behind the attribute Django reads: its `timezone`, which
        Django compares before each cursor, registering its own loader again on any other
        value (DatabaseWrapper.create_cursor). The compiled class cannot be subclassed; its
        `load` is set on each instance, so that psycopg calls it without a Python frame."""

        timezone = UTC

        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self.load = compiled(oid, context).load  # type: ignore[method-assign]

        def load(self, data: Buffer) -> Any:  # replaced on each instance (above)
            raise NotImplementedError

    return UtcTimestamptzLoader


_COMPILED = _compiled_loader()
UTC_LOADER = _utc_loader(_COMPILED) if _COMPILED is not None else None


def load_timestamps_in_c(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """`connection_created`: a new PostgreSQL connection loads its timestamps in C, where
    the session's time zone is UTC (USE_TZ with the database's TIME_ZONE unset, as the
    panel runs) and psycopg's compiled build is there; otherwise Django's loader stays."""
    if UTC_LOADER is None or connection.vendor != "postgresql":
        return
    if connection.timezone is not UTC or connection.timezone_name != "UTC":
        return
    connection.connection.adapters.register_loader(_TIMESTAMPTZ_OID, UTC_LOADER)
