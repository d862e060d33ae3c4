"""Locks that die with their holder.

A cache key with a timeout outlives a worker killed while holding it: the next rounds skip
until the timeout runs out. A PostgreSQL session advisory lock belongs to the holder's
database connection, and the server drops it the moment that connection goes away, killed
process included.

Session advisory locks need a real session: behind a pooler in transaction mode (pgbouncer)
point the workers at PostgreSQL directly.
"""

import contextlib
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence

from django.db import DatabaseError, connection, transaction

from core.db.pipeline import pipelined

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory lock functions take, stable across processes."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def held_lock(name: str) -> Iterator[bool]:
    """Try to take the lock `name` without waiting; yields whether this process holds it."""
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            _advisory_unlock(key)


@contextlib.contextmanager
def held_one_of(names: Sequence[str]) -> Iterator[str | None]:
    """Try each of `names` in turn without waiting; yields the one this process now holds, or
    None when every one is held elsewhere (slots: at most len(names) holders at once)."""
    for name in names:
        key = lock_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = bool(cursor.fetchone()[0])
        if held:
            try:
                yield name
            finally:
                _advisory_unlock(key)
            return
    yield None


def locks_held(names: Iterable[str]) -> set[str]:
    """Which of `names` some session holds now: one read of pg_locks, no lock taken. A moment
    later the answer may differ; callers use it to skip work, never for exclusion."""
    by_key = {lock_key(name): name for name in names}
    if not by_key:
        return set()
    # A bigint advisory key shows in pg_locks as its high half in classid and its low half in
    # objid (both unsigned 32-bit), with objsubid 1.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_locks"
            " WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
        )
        held = {_signed64(high << 32 | low) for high, low in cursor.fetchall()}
    return {name for key, name in by_key.items() if key in held}


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


@contextlib.contextmanager
def exclusive_transaction(name: str) -> Iterator[None]:
    """A transaction that runs alone among those taking the same `name`: the next one waits.

    The lock is transaction-scoped, so it is released only after the commit is visible: the
    next holder's statements see everything the previous one wrote (what makes a
    read-then-record claim safe without locking the rows it reads)."""
    # Pipelined: the lock costs no round trip of its own, its answer comes with the next
    # statement's (which the server runs only once the lock is held).
    with transaction.atomic(), pipelined():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
        yield


def _advisory_unlock(key: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # The session is broken or inside an aborted transaction: closing it is what releases
        # the lock, rather than leaving it held on a pooled connection.
        logger.warning("advisory unlock failed; closing the connection to release the lock")
        connection.close()


def wait_transaction_lock(name: str) -> None:
    """Wait for the transaction-scoped lock `name` inside the caller's transaction: held until it
    commits or rolls back. Unlike exclusive_transaction, the statements after it run one by one
    (savepoints and caught IntegrityErrors included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])


def try_transaction_lock(name: str) -> bool:
    """Take the transaction-scoped lock `name` inside the caller's transaction if no other
    holds it, without waiting; whether it is now held (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(name)])
        return bool(cursor.fetchone()[0])
