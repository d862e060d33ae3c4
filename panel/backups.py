"""Backups of the panel's database: pg_dump's custom format for PostgreSQL, SQLite's online
backup for the embedded default. Both can run while the panel runs; a restore cannot (stop web,
workers and beat first: docs/operations.md).
"""

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump and pg_restore are the tools for the job
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import PanelError

POSTGRES = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


class BackupError(PanelError):
    default_message = "The backup could not be made or restored"


def _database() -> Mapping[str, Any]:
    return settings.DATABASES["default"]


def backup_default_path(directory: Path) -> Path:
    engine = _database()["ENGINE"]
    suffix = ".dump" if engine == POSTGRES else ".sqlite3"
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return directory / f"panel-{stamp}{suffix}"


def backup_create(*, target: Path) -> Path:
    """Writes a consistent copy of the database to `target` and returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    database = _database()
    if database["ENGINE"] == POSTGRES:
        _run_pg("pg_dump", ["--format=custom", "--no-owner", f"--file={target}"], database)
    elif database["ENGINE"] == SQLITE:
        with sqlite3.connect(database["NAME"]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
    else:
        raise BackupError(f"No backup method for the database engine {database['ENGINE']}")
    target.chmod(0o600)  # it holds password hashes and encrypted provider keys
    return target


def backup_restore(*, source: Path) -> None:
    """Replaces the database's contents with the backup's. Nothing may be running against it."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}")
    database = _database()
    if database["ENGINE"] == POSTGRES:
        _run_pg(
            "pg_restore",
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
            database,
        )
    elif database["ENGINE"] == SQLITE:
        with sqlite3.connect(source) as backup, sqlite3.connect(database["NAME"]) as live:
            backup.backup(live)
    else:
        raise BackupError(f"No restore method for the database engine {database['ENGINE']}")


def _run_pg(tool: str, arguments: list[str], database: Mapping[str, Any]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed (apt-get install postgresql-client)")
    connection = [
        f"--host={database.get('HOST') or '127.0.0.1'}",
        f"--port={database.get('PORT') or 5432}",
        f"--username={database.get('USER') or 'postgres'}",
        f"--dbname={database['NAME']}",
        "--no-password",
    ]
    # The password goes through the environment, never the command line (`ps` shows that).
    env = {**os.environ, "PGPASSWORD": str(database.get("PASSWORD") or "")}
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
        [executable, *connection, *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-2000:]}")
