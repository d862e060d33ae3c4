"""The database connection itself, for the few callers that must know of it."""

from django.db import connection, connections


def is_in_transaction() -> bool:
    """Whether this thread's connection is inside `transaction.atomic` (other connections
    cannot see what it wrote until it commits)."""
    return connection.in_atomic_block


def close_thread_connections() -> None:
    """Close this thread's connections: a thread that ends with one open leaves it to the
    server's idle timeout."""
    connections.close_all()


def commit_without_waiting_for_disk() -> None:
    """Let the current transaction's commit return before its WAL reaches the disk.

    Only for writes that are re-derived when lost: a crash of the database loses its most
    recent commits whole, never a part of one."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


# The current transaction's parameterised queries on their generic plans, as an expression a
# statement can carry (no round trip of its own). Meant for the foreign-key checks a commit runs:
# PostgreSQL checks a key against the partitioned `orders_order` with a cached query whose
# generic plan spans every month, and weighing that plan's estimated cost against a plan made
# for each key, it keeps planning the check anew for every row once the table is large
# (docs/performance.md, "The order's key checks on their generic plan").
GENERIC_PLANS_SQL = "set_config('plan_cache_mode', 'force_generic_plan', true)"


def ping() -> None:
    """One round trip to the database; raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
