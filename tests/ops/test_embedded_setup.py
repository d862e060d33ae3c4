"""The embedded setup (`make run`, SQLite) through the hand-written SQL of every API `add`:
SQLite gives back text for dates and floats for decimals, which a raw cursor does not convert.
The rest of the suite runs on PostgreSQL, whose driver converts them itself, so only a run on
SQLite shows whether those reads convert as a queryset would."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

call_command("migrate", verbosity=0)

from accounts.models import ApiKey, BalanceTransaction
from accounts.services import api_key_authenticate, api_key_create, balance_credit, balance_debit
from providers.models import PriceOverride
from providers.selectors import service_for_order
from tests.factories import ServiceFactory, UserFactory

user = UserFactory(username="embedded")
balance_credit(user_id=user.pk, amount=Decimal("10.10"), memo="seed")
key = api_key_create(user=user)
# a key used before, long enough ago that this use is recorded
assert api_key_authenticate(key=key) == user
ApiKey.objects.update(last_used_at=timezone.now() - timedelta(hours=1))
assert api_key_authenticate(key=key) == user
assert api_key_authenticate(key=key) == user  # used a moment ago: nothing written

service = ServiceFactory()
PriceOverride.objects.create(user=user, service=service, rate=Decimal("0.35"))
read = service_for_order(service_id=service.pk, user_id=user.pk)
assert read.customer_override == Decimal("0.35"), repr(read.customer_override)
assert read.has_routes is False

entry = balance_debit(user_id=user.pk, amount=Decimal("0.10"), memo="order")
assert entry.balance_after == Decimal("10.00"), repr(entry.balance_after)
stored = BalanceTransaction.objects.get(pk=entry.pk).balance_after
assert stored == Decimal("10.00"), repr(stored)
print("embedded ok")
"""


def test_the_api_reads_and_the_debit_convert_on_sqlite_as_a_queryset_would(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "embedded ok" in result.stdout
