"""Operator alerts go one way: staff_alert writes each event once to the outbox (a staff email,
and a Telegram row when configured) and the outbox sender delivers it. The low balance rule
(once per crossing) is applied in providers.alerts only, whoever notices the balance."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from accounts.models import User
from core.memos import money_param
from core.money import money_shown
from notifications.delivery import notifications_deliver
from notifications.models import Channel, Kind, Notification, Status
from notifications.services import staff_alert
from providers.alerts import provider_balance_alerts
from providers.models import Provider
from providers.services import provider_check
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _alert(key: str = "k1") -> bool:
    return staff_alert(key=key, kind=Kind.OPS_DAILY_REPORT, subject="Subject", body="Body")


def test_a_staff_alert_written_twice_is_emailed_once_to_every_staff_address(staff: User) -> None:
    other = UserFactory(username="ops2", email="ops2@example.com", is_staff=True)
    UserFactory(username="quiet", email="", is_staff=True)

    assert _alert() and _alert()
    notifications_deliver()
    notifications_deliver()

    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([staff.email, other.email])
    assert mail.outbox[0].subject.endswith("] Subject")
    assert Notification.objects.get().status == Status.SENT


def test_a_staff_alert_with_no_staff_address_reaches_nobody_and_is_skipped(db: None) -> None:
    assert _alert() is False
    notifications_deliver()
    assert mail.outbox == []
    assert Notification.objects.get().status == Status.SKIPPED


@override_settings(PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="42")
def test_a_staff_alert_with_a_telegram_payload_writes_one_row_per_channel(db: None) -> None:
    assert staff_alert(
        key="daily-report:2026-01-02",
        kind=Kind.OPS_DAILY_REPORT,
        subject="Daily report",
        body="figures",
        telegram={"day": "2026-01-02", "summary": "s"},
    )
    rows = Notification.objects.order_by("channel")
    assert [(row.channel, row.key) for row in rows] == [
        (Channel.STAFF_EMAIL, "staff-email:daily-report:2026-01-02"),
        (Channel.TELEGRAM, "daily-report:2026-01-02"),
    ]


@override_settings(PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="42")
def test_low_balance_seen_by_the_check_and_the_beat_sweep_alerts_once_per_crossing(
    staff: User, catalog: Provider
) -> None:
    # given a provider last seen with plenty, whose next answers are below the threshold
    Provider.objects.filter(pk=catalog.pk).update(
        balance=Decimal("2000000000"), low_balance_threshold=Decimal("1000000000")
    )
    catalog.refresh_from_db()

    # when the balance check and the beat sweep both see it low, twice
    for _ in range(2):
        provider_check(provider=catalog)
        assert provider_balance_alerts() == []

    # then one alert: one staff email row and one Telegram row
    low = Notification.objects.filter(kind=Kind.OPS_LOW_BALANCE)
    assert sorted(low.values_list("channel", flat=True)) == ["staff_email", "telegram"]
    with override_settings(PANEL_TELEGRAM_BOT_TOKEN="", PANEL_TELEGRAM_CHAT_ID=""):
        notifications_deliver()
    assert len(mail.outbox) == 1
    assert f"{catalog.name}: balance low" in mail.outbox[0].subject
    # the figures as data with their currency, written as the panel's language writes them
    catalog.refresh_from_db()
    currency = catalog.balance_currency or catalog.currency
    telegram = low.get(channel="telegram").payload
    assert telegram["balance"] == money_param(catalog.balance, currency=currency)
    assert telegram["threshold"] == {"amount": "1000000000", "currency": currency}
    threshold = money_shown(Decimal("1000000000"), currency=currency)
    assert f"below its threshold of {threshold}." in mail.outbox[0].body
    assert mail.outbox[0].to == [staff.email]

    # and after a recovery and a new fall, a second one
    Provider.objects.filter(pk=catalog.pk).update(low_balance_threshold=Decimal(1))
    catalog.refresh_from_db()
    provider_check(provider=catalog)
    Provider.objects.filter(pk=catalog.pk).update(low_balance_threshold=Decimal("1000000000"))
    catalog.refresh_from_db()
    assert provider_balance_alerts() == [catalog.name]
    assert Notification.objects.filter(kind=Kind.OPS_LOW_BALANCE).count() == 4
