from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from notifications.models import Kind, Notification
from orders.models import Order
from reconciliation.models import BalanceSnapshot, Mismatch, MismatchStatus, ProviderDay
from reconciliation.services import mismatch_resolve, reconciliation_due
from tests.reconciliation.conftest import Books


def _alerts() -> list[Notification]:
    return list(Notification.objects.filter(kind=Kind.OPS_RECONCILIATION).order_by("pk"))


def _overcharged_day(books: Books, sent_order: Callable[..., Order]) -> Order:
    books.open()
    order = sent_order()
    books.plant(order, extra_charge="0.5")
    books.force(order, "Completed")
    books.poll()
    books.close()
    return order


def test_a_mismatch_alerts_once_however_often_the_day_is_reconciled(
    books: Books, sent_order: Callable[..., Order], staff: User
) -> None:
    _overcharged_day(books, sent_order)
    books.reconcile()
    books.reconcile()
    alerts = _alerts()
    assert [row.channel for row in alerts] == ["staff_email"]
    assert alerts[0].payload["subject"].startswith("Sandbox: the books of")

    # a new mismatch found on a later run alerts once more, about itself only
    from tests.support import sandbox_control

    sandbox_control(books.sandbox, "balance_adjust", amount="-2")
    BalanceSnapshot.objects.filter(day=books.day + timedelta(days=1)).delete()
    books.close()
    books.reconcile()
    books.reconcile()
    assert len(_alerts()) == 2
    assert "(1)" in _alerts()[1].payload["subject"]


def test_the_command_exits_non_zero_until_every_mismatch_is_resolved(
    books: Books, sent_order: Callable[..., Order], staff: User
) -> None:
    _overcharged_day(books, sent_order)
    out = StringIO()
    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("reconcile_providers", date=books.day.isoformat(), stdout=out)
    assert "Charged more than its price, order" in out.getvalue()

    flag = ProviderDay.objects.get().mismatches.get()
    mismatch_resolve(mismatch_id=flag.pk, to_status=MismatchStatus.CLAIMED, note="", admin=staff)
    with pytest.raises(CommandError):
        call_command("reconcile_providers", date=books.day.isoformat(), stdout=StringIO())
    mismatch_resolve(mismatch_id=flag.pk, to_status=MismatchStatus.RECOVERED, note="", admin=staff)
    out = StringIO()
    call_command("reconcile_providers", date=books.day.isoformat(), provider="Sandbox", stdout=out)
    assert "books match" in out.getvalue()


def test_the_command_refuses_bad_input(books: Books) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile_providers", date="06/12/2026")
    with pytest.raises(CommandError, match="No provider"):
        call_command("reconcile_providers", provider="Nobody")
    assert not ProviderDay.objects.exists()


def test_the_beat_run_snapshots_today_and_reconciles_each_due_day_once(
    books: Books, sent_order: Callable[..., Order]
) -> None:
    # given yesterday's edge and today's, both read, today's two hours ago
    yesterday = books.day - timedelta(days=1)
    now = timezone.now()
    for day, hours in ((yesterday, 26), (books.day, 2)):
        BalanceSnapshot.objects.create(
            provider=books.provider,
            day=day,
            balance=books.provider.balance,
            currency="USD",
            requested_at=now - timedelta(hours=hours),
            answered_at=now - timedelta(hours=hours),
        )
    # when
    done = reconciliation_due()
    # then yesterday is reconciled with its balance (and matches: nothing happened); the day
    # before, closed by yesterday's edge but never opened, has its orders checked only; once
    before = yesterday - timedelta(days=1)
    assert [(row.day, row.has_balance_check) for row in done] == [
        (before, False),
        (yesterday, True),
    ]
    assert reconciliation_due() == []
    assert not Mismatch.objects.exists()


def test_the_beat_run_takes_a_missing_snapshot_of_today(books: Books) -> None:
    reconciliation_due()
    snapshot = BalanceSnapshot.objects.get(day=books.day)
    assert snapshot.is_read and snapshot.currency == "USD"
    reconciliation_due()
    assert BalanceSnapshot.objects.get(day=books.day).requested_at == snapshot.requested_at
