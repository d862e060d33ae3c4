from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.services import api_key_authenticate
from orders.models import Order, ProductOrder
from panel.demo_money import demo_dollar_rate
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


def test_seed_demo_runs_in_dong(db: None, sandbox: SandboxServer, settings: Any) -> None:
    """A Vietnamese panel's demo is in VND: the sandbox bills in dollars, so the demo converts
    at its rate; prices per 1000 are whole đồng and the balances đồng-sized."""
    settings.PANEL_CURRENCY = "VND"

    call_command("seed_demo", sandbox_url=sandbox.url, stdout=StringIO(), stderr=StringIO())

    provider = Provider.objects.get()
    assert (provider.currency, provider.exchange_rate) == ("USD", demo_dollar_rate())
    rates = list(Service.objects.values_list("rate", flat=True))
    assert rates and all(rate == rate.to_integral_value() and rate >= 1 for rate in rates)
    assert Order.objects.filter(user__username="demo").count() >= 5
    # đồng-sized money: the reseller opens with 250 dollars' worth, deposits are 15 and up
    opening = BalanceTransaction.objects.filter(user__username="reseller").order_by("pk").first()
    assert opening is not None and opening.amount == 250 * demo_dollar_rate()
    assert not Deposit.objects.filter(amount__lt=15 * demo_dollar_rate()).exists()


def test_seed_demo_refuses_a_currency_it_has_no_rate_for(
    db: None, sandbox: SandboxServer, settings: Any
) -> None:
    settings.PANEL_CURRENCY = "EUR"

    with pytest.raises(CommandError, match="set PANEL_CURRENCY"):
        call_command("seed_demo", sandbox_url=sandbox.url, stdout=StringIO(), stderr=StringIO())
