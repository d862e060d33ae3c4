#!/usr/bin/env python3
"""`make run`: migrate, then web, worker, beat and the sandbox provider under honcho (Procfile).

The database: a DATABASE_URL in the environment names a server, and that server is used. Else
.env decides: with PANEL_EMBEDDED_PG_DATA set (scripts/write_env.py writes it), the embedded
PostgreSQL is started on DATABASE_URL's port with its data in that folder, and stopped when the
panel stops (Ctrl-C, SIGTERM); without it, .env's DATABASE_URL names a server of your own.

`scripts/run.py --with-database -- COMMAND...` runs one command against that database instead
(`make backup`, `make restore`): the embedded server is started for it when it is not running,
and stopped afterwards only then, so a backup taken while `make run` runs leaves it running.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedded_pg  # noqa: E402 - this folder, put on the path above

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    return values


def embedded_data() -> tuple[Path, int, str] | None:
    """The embedded server's data folder, port and database when it serves DATABASE_URL."""
    settings = dotenv(ROOT / ".env")
    data = os.environ.get("PANEL_EMBEDDED_PG_DATA", settings.get("PANEL_EMBEDDED_PG_DATA", ""))
    if "DATABASE_URL" in os.environ or not data:
        where = "the environment" if "DATABASE_URL" in os.environ else ".env"
        print(f"database: the server DATABASE_URL names (from {where})", flush=True)
        return None
    url = urlsplit(settings["DATABASE_URL"])
    return (
        Path(data),
        url.port or embedded_pg.DEFAULT_PORT,
        url.path.lstrip("/") or embedded_pg.DATABASE,
    )


def with_database(command: list[str]) -> int:
    embedded = embedded_data()
    if embedded is None:
        return subprocess.call(command)  # noqa: S603 - the Makefile's command
    data, port, database = embedded
    started = embedded_pg.start(data, port=port, database=database)
    print(started.describe(), flush=True)
    try:
        return subprocess.call(command)  # noqa: S603 - the Makefile's command
    finally:
        if not started.adopted:
            embedded_pg.stop(data)
            print("embedded PostgreSQL stopped", flush=True)


def main() -> int:
    os.chdir(ROOT)
    if sys.argv[1:2] == ["--with-database"]:
        command = sys.argv[2:]
        return with_database(command[1:] if command[:1] == ["--"] else command)
    panel = (
        f'"{BIN / "python"}" manage.py migrate --noinput'
        f' && exec "{BIN / "honcho"}" start --env /dev/null -f Procfile'
    )
    command = ["/bin/sh", "-c", panel]
    embedded = embedded_data()
    if embedded is None:
        os.execv(command[0], command)  # noqa: S606 - the fixed command above
    data, port, database = embedded
    begun = time.monotonic()
    code = embedded_pg.run(data, port=port, database=database, command=command)
    print(f"the panel ran for {time.monotonic() - begun:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
