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
# statement can carry (no round trip of its own): see key_checks_planned_once.
GENERIC_PLANS_SQL = "set_config('plan_cache_mode', 'force_generic_plan', true)"


def key_checks_planned_once() -> None:
    """Let the current transaction's foreign-key checks run on each key's generic plan.

    PostgreSQL checks a row's key against a partitioned table (`orders_order`) with a cached
    query whose generic plan spans every partition; past a few executions it compares that
    plan's estimated cost with the plans made for each key, and once its partitions fill it
    keeps planning the query anew for every checked row, the partitions' bounds and sizes
    read each time. For a write of a thousand events that was most of the database's work
    (docs/performance.md, "A million polled orders, sixth pass"); an order placed paid it once
    (its statement carries GENERIC_PLANS_SQL instead). Statements Django sends carry their
    values in their text and have no parameters, so only parameterised queries are affected:
    the checks', and the trigger functions'."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {GENERIC_PLANS_SQL}")


def deferred_checks_now() -> None:
    """Run the current transaction's deferred constraint checks now, and any later ones at
    their statement's end, instead of at the commit.

    For a writer that takes hot row locks last (the users' balances of a poll's refunds): the
    checks of a thousand rows it wrote before then no longer run while those locks are held,
    so other writers of the same users wait for less than the commit itself."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def ping() -> None:
    """One round trip to the database; raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
