#!/usr/bin/env python3
"""Write `.env` for the embedded setup (SQLite, a broker on the file system, a file cache) with
fresh secrets. Standard library only: it runs before anything is installed. Never overwrites."""

import base64
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def embedded_values(var: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PANEL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": f"sqlite:///{var / 'panel.sqlite3'}",
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
    }


def add_missing(target: Path, values: dict[str, str]) -> list[str]:
    """An .env written by an older checkout lacks settings added since; append those (never
    change a value that is there)."""
    present = {
        line.partition("=")[0].strip()
        for line in target.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    missing = [name for name in values if name not in present]
    if missing:
        with target.open("a") as env_file:
            env_file.write("".join(f"{name}={values[name]}\n" for name in missing))
    return missing


def main() -> int:
    target = ROOT / ".env"
    var = ROOT / "var"
    values = embedded_values(var)
    if target.exists():
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
    for line in (ROOT / ".env.example").read_text().splitlines():
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
