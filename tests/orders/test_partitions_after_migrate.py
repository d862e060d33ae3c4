"""The months `migrate` prepares as it ends (orders/apps.py): skipped when the tables are not
partitioned in fact (a `migrate --fake`), never waiting behind an archive for the months' lock,
and never alerting the operators from inside migrate: beat's hourly job does both."""

import time
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_migrate

from accounts.models import User
from accounts.services import balance_credit
from core.db.locks import lock_key
from core.db.partitions import current_period, next_period, partitions_in_place
from notifications.models import Kind, Notification
from orders.partitions import SUBJECTS
from tests.partitions import month_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_period_registry")]

_ANCHORED = {
    model._meta.db_table for model in SUBJECTS.values() if model._meta.db_table != "orders_order"
}


def _migrated(*, verbosity: int = 1) -> str:
    """What the orders app's post_migrate handler says after a forward plan of one migration."""
    loader = MigrationLoader(connection)
    plan = [(loader.graph.nodes[("orders", "0019_event_period_no_default")], False)]
    out = StringIO()
    orders_app = apps.get_app_config("orders")
    post_migrate.send(
        sender=orders_app,
        app_config=orders_app,
        using="default",
        verbosity=verbosity,
        plan=plan,
        apps=apps,
        stdout=out,
    )
    return out.getvalue()


def _months_marked() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM panel_period_start WHERE period = %s", [current_period()]
        )
        return {row[0] for row in cursor.fetchall()}


def _months_unmarked() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM panel_period_start WHERE table_name = ANY(%s)", [list(_ANCHORED)]
        )


def _lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return str(cursor.fetchone()[0])


def test_a_forward_migrate_prepares_the_months() -> None:
    _months_unmarked()
    timeout = _lock_timeout()

    said = _migrated()

    assert _ANCHORED <= _months_marked()
    assert "Months not prepared" not in said
    # and its short lock timeout ended with it, though a caller's transaction goes on
    assert _lock_timeout() == timeout


def test_a_database_whose_tables_are_not_partitioned_is_skipped_with_a_word() -> None:
    # given the orders table as `migrate --fake` of orders 0014 leaves it: a plain table
    _months_unmarked()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE orders_order RENAME TO orders_order_aside")
        cursor.execute("CREATE TABLE orders_order (id bigint PRIMARY KEY)")
    assert not partitions_in_place(partitioned=["orders_order"], plain=["orders_refill"])

    # when migrate ends
    said = _migrated()

    # then nothing is prepared, nothing fails, and the operator reads why
    assert not _ANCHORED & _months_marked()
    assert "not partitioned in this database" in said
    assert _migrated(verbosity=0) == ""


def test_the_tables_in_place_are_told_apart() -> None:
    assert partitions_in_place(
        partitioned=["orders_order", "orders_orderevent", "accounts_balancetransaction"],
        plain=sorted(_ANCHORED),
    )
    assert not partitions_in_place(partitioned=["orders_refill"], plain=[])
    assert not partitions_in_place(partitioned=[], plain=["orders_no_such_table"])


def _other_session() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=False,
    )


def test_migrate_does_not_wait_behind_an_archive_for_the_months() -> None:
    # given an archive of old months holding the months' lock in its long transaction
    _months_unmarked()
    with _other_session() as archive:
        archive.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key("partitions-prepare")])
        started = time.monotonic()

        # when migrate ends
        said = _migrated()

        # then it goes on at once, and says that beat's job prepares them
        assert time.monotonic() - started < 3
        archive.rollback()
    assert "another job holds them" in said
    assert "Beat's hourly job prepares them" in said
    assert not _ANCHORED & _months_marked()


def test_migrate_does_not_wait_long_for_a_table_another_holds() -> None:
    # given a transaction holding the partitions' list (a long statement over it), not the lock
    with _other_session() as other:
        other.execute("SET lock_timeout = '2s'")
        other.execute("LOCK TABLE panel_partition IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()

        said = _migrated()

        # then migrate gives up after its lock timeout, not at the other's end
        assert time.monotonic() - started < 15
        other.rollback()
    assert "another job holds them" in said


def test_migrate_says_rows_in_a_default_partition_and_leaves_the_alert_to_beat(
    customer: User,
) -> None:
    # given a ledger row no month covered (beat down for years)
    far = next_period(current_period(), 40)
    with time_machine.travel(month_start(far), tick=False):
        balance_credit(user_id=customer.pk, amount=Decimal("5"), memo="gift")

    said = _migrated()

    assert "DEFAULT partition of accounts_balancetransaction holds rows" in said
    assert not Notification.objects.filter(kind=Kind.OPS_PARTITIONS).exists()
