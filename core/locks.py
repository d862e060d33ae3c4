"""Locks that die with their holder.

A cache key with a timeout outlives a worker killed while holding it: the next rounds skip
until the timeout runs out. A PostgreSQL session advisory lock belongs to the holder's
database connection, and the server drops it the moment that connection goes away, killed
process included. The embedded SQLite setup runs on one machine, where an flock on a file
gives the same guarantee: the kernel releases it when the process dies.

Session advisory locks need a real session: behind a pooler in transaction mode (pgbouncer)
point the workers at PostgreSQL directly.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from core.pipeline import pipelined

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory lock functions take, stable across processes."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def held_lock(name: str) -> Iterator[bool]:
    """Try to take the lock `name` without waiting; yields whether this process holds it."""
    manager = _advisory_lock if connection.vendor == "postgresql" else _file_lock
    with manager(name) as held:
        yield held


@contextlib.contextmanager
def exclusive_transaction(name: str) -> Iterator[None]:
    """A transaction that runs alone among those taking the same `name`: the next one waits.

    On PostgreSQL the lock is transaction-scoped, so it is released only after the commit is
    visible: the next holder's statements see everything the previous one wrote (what makes a
    read-then-record claim safe without locking the rows it reads). Elsewhere an flock held
    around the transaction does the same for the threads and processes of one machine."""
    if connection.vendor == "postgresql":
        # Pipelined: the lock costs no round trip of its own, its answer comes with the next
        # statement's (which the server runs only once the lock is held).
        with transaction.atomic(), pipelined():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
            yield
        return
    descriptor = _lock_file(name)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with transaction.atomic():
            yield
    finally:
        os.close(descriptor)  # closing the last descriptor of the file releases the flock


@contextlib.contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            _advisory_unlock(key)


def _advisory_unlock(key: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # The session is broken or inside an aborted transaction: closing it is what releases
        # the lock, rather than leaving it held on a pooled connection.
        logger.warning("advisory unlock failed; closing the connection to release the lock")
        connection.close()


def _lock_file(name: str) -> int:
    # One lock space per database, so two checkouts on one machine do not share locks.
    scope = f"{connection.settings_dict.get('NAME')}:{name}"
    folder = Path(tempfile.gettempdir()) / "smm-panel-locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return os.open(
        folder / f"{lock_key(scope) & (2**64 - 1):016x}.lock", os.O_RDWR | os.O_CREAT, 0o600
    )


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[bool]:
    descriptor = _lock_file(name)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
