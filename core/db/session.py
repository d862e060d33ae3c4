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


def ping() -> None:
    """One round trip to the database; raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
