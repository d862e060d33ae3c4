from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_authenticate
from orders.models import Order, ProductOrder
from panel.models import DayFigures
from payments.models import Deposit
from providers.models import Provider, Service, ServiceScore
from sandbox import SandboxServer


def test_seed_demo_builds_a_living_panel_once(
    db: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    out = StringIO()
    logins = tmp_path / "var" / "demo-logins.txt"
    call_command(
        "seed_demo",
        sandbox_url=sandbox.url,
        web_url="http://127.0.0.1:8000/",
        logins_file=str(logins),
        stdout=out,
        stderr=StringIO(),
    )
    # The terminal scrolls the welcome away; the file keeps it, keys included, for its owner only.
    assert "API key of reseller" in logins.read_text() and logins.stat().st_mode & 0o777 == 0o600

    key = next(
        line.split(": ")[-1]
        for line in out.getvalue().splitlines()
        if "API key of reseller" in line
    )
    assert api_key_authenticate(key=key) == User.objects.get(username="reseller")
    assert User.objects.get(username="admin").is_superuser
    assert Provider.objects.get().name == "Sandbox" and Service.objects.count() == 40
    assert (
        Order.objects.filter(user__username="demo").count() >= 5 and ProductOrder.objects.exists()
    )

    # 30 days of history for the dashboard, already rolled up, with every balance on its ledger
    oldest = Order.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timedelta(days=29)
    assert DayFigures.objects.values("day").distinct().count() >= 28
    assert Deposit.objects.filter(status="credited", gateway="manual").count() >= 30
    # every service on sale has a past, so its scorecard has figures (issue 23)
    scored = ServiceScore.objects.filter(complete_p50_seconds__isnull=False)
    assert scored.count() >= 0.9 * Service.objects.on_sale().count()
    assert ServiceScore.objects.filter(refill_success_percent__isnull=False).exists()
    assert not Order.objects.filter(finished_at__gt=timezone.now()).exists()

    again = StringIO()
    call_command(
        "seed_demo",
        sandbox_url=sandbox.url,
        logins_file=str(logins),
        stdout=again,
        stderr=StringIO(),
    )
    assert "API key" not in again.getvalue() and "login demo / demo12345" in again.getvalue()
    assert str(logins) in again.getvalue() and "API key of reseller" in logins.read_text()
    assert Provider.objects.count() == 1


def test_seed_demo_says_clearly_when_the_sandbox_is_not_there(db: None) -> None:
    with pytest.raises(CommandError, match="does not answer"):
        call_command(
            "seed_demo",
            sandbox_url="http://127.0.0.1:9/api/v2",
            wait=0.5,
            stdout=StringIO(),
            stderr=StringIO(),
        )
