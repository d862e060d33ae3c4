"""Timestamps loaded by psycopg's compiled loader (core.db.adapters): the same values Django's
own loader gives, on every connection, through the ORM, raw cursors and prepared ones."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format

from core.db.adapters import UTC_LOADER
from core.db.prepared import prepared_cursor
from tests.factories import UserFactory

TIMESTAMPTZ = 1184
SAMPLES = (
    "2026-12-07 06:21:49.123456+00",
    "2026-01-01 10:00:00.1+07",
    "2025-06-30 23:59:59-03:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00+05:45",
)


def _loaded(sql: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


@pytest.mark.django_db
def test_the_connection_loads_timestamps_with_the_compiled_loader() -> None:
    # given a connection of the panel
    connection.ensure_connection()

    # then its timestamps go through the compiled loader, which Django's check keeps
    assert UTC_LOADER is not None, "psycopg's binary build is a dependency (pyproject.toml)"
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            (now,) = cursor.fetchone()
        assert connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is UTC_LOADER
        assert now.tzinfo is UTC


@pytest.mark.django_db
def test_values_are_those_of_djangos_loader() -> None:
    # given Django's own loader on an adapters map of its own, beside the connection's
    django_map = AdaptersMap(connection.connection.adapters)
    register_tzloader(connection.timezone, django_map)
    loader_class = django_map.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert loader_class is not None and UTC_LOADER is not None
    django_loader = loader_class(TIMESTAMPTZ, connection.connection)
    ours = UTC_LOADER(TIMESTAMPTZ, connection.connection)
    # then every sample, as PostgreSQL writes it back, loads to the same instant and zone
    texts = _loaded("SELECT " + ", ".join(f"('{sample}'::timestamptz)::text" for sample in SAMPLES))
    for text in texts:
        theirs, mine = django_loader.load(text.encode()), ours.load(text.encode())
        assert mine == theirs and mine.tzinfo is theirs.tzinfo is UTC, text
    assert _loaded("SELECT NULL::timestamptz") == (None,)


@pytest.mark.django_db
def test_model_fields_and_prepared_reads_round_trip() -> None:
    # given a user whose last login has microseconds and came from another zone
    moment = datetime(2026, 3, 1, 17, 4, 5, 678901, tzinfo=UTC) - timedelta(hours=7)
    user = UserFactory(last_login=moment)

    # then the ORM and a prepared statement read it back as it was written
    user.refresh_from_db()
    assert user.last_login == moment and user.last_login.tzinfo is UTC
    with prepared_cursor() as cursor:
        cursor.execute("SELECT last_login FROM accounts_user WHERE id = %s", [user.pk])
        assert cursor.fetchone() == (moment,)
