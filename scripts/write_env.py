#!/usr/bin/env python3
"""Write `.env` for the embedded setup (the embedded PostgreSQL that `make run` starts, a broker on
the file system, a file cache) with fresh secrets. Standard library only: it runs before anything
is installed. Never overwrites a value, except an SQLite DATABASE_URL of an older checkout, which
moves to the embedded PostgreSQL (SQLite is no longer supported)."""

import base64
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# A port beside the usual 5432, so a PostgreSQL of the machine's own keeps its port.
DEFAULT_EMBEDDED_PORT = 5433


def embedded_database_url() -> str:
    port = int(os.environ.get("PANEL_EMBEDDED_PG_PORT") or DEFAULT_EMBEDDED_PORT)
    return f"postgres://postgres@127.0.0.1:{port}/smm_panel"


def embedded_values(var: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PANEL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": embedded_database_url(),
        # Says that `make run` starts and stops the server of DATABASE_URL, with its data here.
        "PANEL_EMBEDDED_PG_DATA": str(var / "postgres"),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(
            {
                "data_folder_in": str(var / "broker/queue"),
                "data_folder_out": str(var / "broker/queue"),
                "processed_folder": str(var / "broker/processed"),
                "control_folder": str(var / "broker/control"),
                "store_processed": False,
                "polling_interval": 0.2,
            }
        ),
        "CACHE_URL": f"filecache://{var / 'cache'}",
        # The demo is served over plain HTTP on localhost.
        "PANEL_HTTPS": "off",
        # The demo stays two commands: mail goes to the console, sign-ups are active at once,
        # and the demo admin reaches the admin without enrolling a second factor.
        "EMAIL_URL": "consolemail://",
        "PANEL_REQUIRE_EMAIL_CONFIRMATION": "False",
        "PANEL_STAFF_2FA": "False",
        # Visitors who have not picked a language get this one (vi or en).
        "PANEL_LANGUAGE": "vi",
        # Chosen once, when .env is written: `PANEL_CURRENCY=USD make run` on a fresh checkout
        # keeps dollars for good (amounts are stored in the currency, never converted).
        "PANEL_CURRENCY": os.environ.get("PANEL_CURRENCY") or "VND",
        # The demo's webhooks may go to a receiver on this machine (never on a server).
        "PANEL_WEBHOOKS_ALLOW_LOOPBACK": "on",
        # The demo shows the contact channels (footer, support page, the phone's button).
        "PANEL_SUPPORT_ZALO": "0909123456",
        "PANEL_SUPPORT_PHONE": "1900 6868",
        "PANEL_SUPPORT_TELEGRAM": "@smmpanel_support",
        "PANEL_SUPPORT_FACEBOOK": "https://m.me/smmpanel.demo",
        # Child panels of the demo buy from this panel's own API on this machine.
        "PANEL_CHILD_PANEL_API_URL": (
            f"http://127.0.0.1:{os.environ.get('PANEL_WEB_PORT') or 8000}/api/v2"
        ),
    }


def read_values(target: Path) -> dict[str, str]:
    values = {}
    for line in target.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def move_off_sqlite(target: Path, values: dict[str, str]) -> bool:
    """An .env of the SQLite days names an SQLite file: point it at the embedded PostgreSQL
    instead. The SQLite file stays where it is; the demo data is seeded again."""
    if not read_values(target).get("DATABASE_URL", "").startswith("sqlite:"):
        return False
    lines = [
        f"DATABASE_URL={values['DATABASE_URL']}"
        if line.partition("=")[0].strip() == "DATABASE_URL" and not line.lstrip().startswith("#")
        else line
        for line in target.read_text().splitlines()
    ]
    lines = [line for line in lines if not line.startswith("PANEL_EMBEDDED_PG_DATA=")]
    lines.append(f"PANEL_EMBEDDED_PG_DATA={values['PANEL_EMBEDDED_PG_DATA']}")
    target.write_text("\n".join(lines) + "\n")
    return True


# What an .env of an older checkout ran with when it lacked the setting: its data is in it.
# (The currency's default moved from USD to VND; a panel's amounts are stored in its currency.)
FORMER_DEFAULTS = {"PANEL_CURRENCY": "USD"}


def add_missing(target: Path, values: dict[str, str]) -> list[str]:
    """An .env written by an older checkout lacks settings added since; append those (never
    change a value that is there), at the value it ran with where the default changed since.
    PANEL_EMBEDDED_PG_DATA is not one of them: added to an .env that names a server of its own,
    it would make `make run` start a second one."""
    present = read_values(target)
    missing = [name for name in values if name not in present and name != "PANEL_EMBEDDED_PG_DATA"]
    if missing:
        with target.open("a") as env_file:
            env_file.write(
                "".join(f"{name}={FORMER_DEFAULTS.get(name, values[name])}\n" for name in missing)
            )
    return missing


def main(root: Path = ROOT) -> int:
    target = root / ".env"
    var = root / "var"
    values = embedded_values(var)
    if target.exists():
        if move_off_sqlite(target, values):
            print(
                f".env named an SQLite database, which the panel no longer supports; it now names "
                f"the embedded PostgreSQL ({values['DATABASE_URL']}, data in var/postgres). "
                "The old SQLite file is left in var/; the demo data is seeded again."
            )
        added = add_missing(target, values)
        print(
            f".env exists; added {', '.join(added)}"
            if added
            else ".env exists; leaving it as it is"
        )
        return 0
    for folder in ("broker/queue", "broker/processed", "broker/control", "cache"):
        (var / folder).mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (root / ".env.example").read_text().splitlines():
        name, sep, _ = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name.strip() in values:
            line = f"{name.strip()}={values[name.strip()]}"
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    print(f"wrote {target} (embedded defaults, fresh secrets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
