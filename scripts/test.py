#!/usr/bin/env python3
"""`make test`: every check, one after the other, each step timed, stopping at the first failure.

    services     Redis on 127.0.0.1:6379 (started when installed), a PostgreSQL when one is there
    database     which PostgreSQL the tests use: DATABASE_URL when the environment names one, else
                 the one on 127.0.0.1:5432 when it answers, else an embedded one in a temporary
                 folder, stopped at the end
    lint         make lint: ruff, the import contracts, the dead-code check
    types        mypy
    migrations   makemigrations --check
    unit         pytest -m "not slow", in parallel (pytest-xdist; PANEL_TEST_WORKERS, default 2)
    slow         pytest -m slow: chaos, end-to-end with real workers, the browser

PANEL_TEST_STEPS=unit,slow runs only the steps named (services and database always run).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedded_pg  # noqa: E402 - this folder, put on the path above

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The machine's PostgreSQL, when it has one (PANEL_TEST_SYSTEM_PG names another place to look).
SYSTEM_PG = os.environ.get("PANEL_TEST_SYSTEM_PG", "postgres://postgres@127.0.0.1:5432")
# pytest's "no tests were collected": a step that selects nothing has tested nothing.
NO_TESTS = 5


def pg_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{url}/postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    os.chdir(ROOT)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "panel.settings_test"}
    chosen = {s for s in os.environ.get("PANEL_TEST_STEPS", "").split(",") if s}
    workers = os.environ.get("PANEL_TEST_WORKERS", "2")
    pytest = [str(BIN / "pytest"), "-q"]
    steps: list[tuple[str, list[list[str]]]] = [
        # `make lint` owns the list (ruff, the import contracts, the dead-code check).
        ("lint", [["make", "--no-print-directory", "lint"]]),
        ("types", [[str(BIN / "mypy")]]),
        (
            "migrations",
            [[str(BIN / "python"), "manage.py", "makemigrations", "--check", "--dry-run"]],
        ),
        # loadgroup: the tests that share a server of their own (xdist_group) stay on one worker.
        ("unit", [[*pytest, "-m", "not slow", "-n", workers, "--dist", "loadgroup"]]),
        ("slow", [[*pytest, "-m", "slow", "-p", "no:xdist"]]),
    ]
    times: list[tuple[str, float, str]] = []
    embedded_data: Path | None = None

    def timed(name: str, commands: list[list[str]]) -> bool:
        print(f"\n=== {name} ===", flush=True)
        begun = time.monotonic()
        verdict = "ok"
        for command in commands:
            code = subprocess.call(command, env=env)  # noqa: S603 - the fixed steps above
            if code == NO_TESTS:
                print(f"{name}: no tests were collected", flush=True)
            if code:
                verdict = f"FAILED (exit {code})"
                break
        times.append((name, time.monotonic() - begun, verdict))
        return verdict == "ok"

    try:
        if not timed("services", [["bash", "scripts/ensure_services.sh"]]):
            return 1
        begun = time.monotonic()
        if "DATABASE_URL" in os.environ:
            print(f"database: {os.environ['DATABASE_URL']} (DATABASE_URL in the environment)")
        elif pg_answers(SYSTEM_PG):
            print(f"database: the PostgreSQL at {SYSTEM_PG}")
        else:
            embedded_data = Path(tempfile.mkdtemp(prefix="panel-test-pg-")) / "data"
            started = embedded_pg.start(embedded_data, port=free_port(), throwaway=True)
            env["DATABASE_URL"] = started.url
            print(f"database: no PostgreSQL at {SYSTEM_PG}; {started.describe()}")
        times.append(("database", time.monotonic() - begun, "ok"))
        for name, commands in steps:
            if chosen and name not in chosen:
                continue
            if not timed(name, commands):
                return 1
        return 0
    finally:
        if embedded_data is not None:
            embedded_pg.stop(embedded_data)
            shutil.rmtree(embedded_data.parent, ignore_errors=True)
            print("the embedded PostgreSQL of the tests is stopped and removed")
        print("\nmake test, time per step:")
        for name, seconds, verdict in times:
            print(f"  {name:<11} {seconds:7.1f} s  {verdict}")
        print(f"  {'total':<11} {sum(seconds for _, seconds, _ in times):7.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
