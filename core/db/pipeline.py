"""Several statements in one round trip to PostgreSQL (psycopg's pipeline mode).

Inside `pipelined()`, a statement whose result nobody reads yet is sent without waiting for
its answer; reading a result (a fetch) or leaving the block waits for everything sent so far.
A transaction of a dozen statements then costs the two or three round trips where a result is
really needed. For a poller, each round trip is also a wait to get the interpreter back from
the threads parsing the provider's answers, so it pays twice.

Errors of pipelined statements surface at the next wait, as the same Django exceptions.
"""

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def pipelined() -> Iterator[None]:
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
