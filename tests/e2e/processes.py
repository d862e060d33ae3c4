"""Real processes for end-to-end tests: Celery workers and whole panel instances."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def database_server(url: str | None = None) -> str:
    """The server part of DATABASE_URL (postgres://user@host:port): the tests' PostgreSQL is
    127.0.0.1:5432 or, on a machine without one, the embedded server `make test` starts."""
    parts = urlsplit(url or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432")
    return f"{parts.scheme}://{parts.netloc}"


PG = database_server()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_db(url: str) -> int:
    """The database number of a redis:// URL (the path), 0 when it names none."""
    return int(url.rsplit("/", 1)[-1] or 0) if url.count("/") >= 3 else 0


def flush_redis(db: int) -> None:
    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def flush_run_broker() -> None:
    """Empty this run's queues before a test starts its workers: tasks an earlier test enqueued
    are not its business. Only the keys under the run's prefix (panel/settings_test.py), never
    the whole Redis database, where another checkout's run may have queued its own."""
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    prefix = os.environ["PANEL_TEST_BROKER_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def shared_database_url() -> str:
    """The URL of the test database pytest-django made: the workers a test starts share it."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.25,
    what: str = "condition",
    logs: "Sequence[Process]" = (),
) -> object:
    """Poll `condition` until it is true. On a timeout the failure carries the end of each of
    `logs`' output: a process's own account of why it did not get there is the first clue."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tails = "".join(
                f"\n--- {process.name} (last lines) ---\n{process.output()[-4000:]}"
                for process in logs
            )
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{tails}")
        time.sleep(interval)


class Process:
    """A child process whose output goes to a file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, args: list[str], env: Mapping[str, str], name: str) -> None:
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        self._file = self.log.open("w")
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = 30) -> None:
        def seen() -> bool:
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.popen.returncode}:\n{self.output()[-3000:]}"
                )
            return re.search(pattern, self.output()) is not None

        wait_until(seen, timeout=timeout, what=f"{self.name} to print {pattern!r}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._file.close()


def celery_worker(
    env: Mapping[str, str], *, name: str = "worker", beat: bool = True, timeout: float = 60
) -> Process:
    schedule = tempfile.mktemp(prefix="beat-", suffix=".db")  # noqa: S306 - a file beat creates itself
    args = [
        str(VENV_BIN / "celery"),
        "-A",
        "panel",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        "2",
        "--hostname",
        f"{name}@%h",
    ]
    if beat:
        args += ["--beat", "--schedule", schedule]
    process = Process(args, env, name)
    process.wait_for_output(r"ready\.", timeout=timeout)
    return process


def recreate_database(name: str) -> str:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def manage(env: Mapping[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


FAST_PANEL = {
    "PANEL_POLL_SECONDS": "1",
    "PANEL_POLL_INTERVAL_SECONDS": "1",
    "PANEL_POLL_MAX_INTERVAL_SECONDS": "2",
    "PANEL_DISPATCH_SWEEP_SECONDS": "2",
    "PANEL_PROVIDER_READ_TIMEOUT": "10",
    "LOG_LEVEL": "INFO",
}
