"""The deposit notifications are sent: a credited transfer tells its customer and the
operators once, an unmatched one alerts the operators once, whatever the webhook replays."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from notifications.models import Kind, Notification
from payments.models import Deposit
from tests.payments.senders import post_sepay, sepay_body

pytestmark = [pytest.mark.usefixtures("bank", "telegram"), pytest.mark.django_db]


@pytest.fixture
def telegram(settings: Any) -> None:
    # Operator events are written only while a Telegram chat is configured.
    settings.PANEL_TELEGRAM_BOT_TOKEN = "123:test"
    settings.PANEL_TELEGRAM_CHAT_ID = "42"


def test_a_credited_transfer_notifies_the_customer_and_the_operators_once(
    client: Client, customer: User
) -> None:
    # given
    body = sepay_body(transfer_id=7001, amount=250000, content=f"NAP{customer.pk}")

    # when: the webhook arrives three times
    for _ in range(3):
        assert post_sepay(client, body).status_code == 200

    # then
    deposit = Deposit.objects.get(gateway="sepay", external_id="7001")
    rows = Notification.objects.filter(ref=deposit.pk).order_by("kind")
    assert [(row.kind, row.user_id) for row in rows] == [
        (Kind.DEPOSIT_CREDITED, customer.pk),
        (Kind.OPS_DEPOSIT, None),
    ]
    assert rows[0].payload["amount"] == "10"


def test_an_unmatched_transfer_alerts_the_operators_once(client: Client) -> None:
    body = sepay_body(transfer_id=7002, amount=50000, content="chuyen tien khong ghi ma")

    for _ in range(2):
        assert post_sepay(client, body).status_code == 200

    alerts = Notification.objects.filter(kind=Kind.OPS_DEPOSIT_UNMATCHED)
    assert [alert.payload["reference"] for alert in alerts] == ["7002"]
    assert not Notification.objects.filter(kind=Kind.DEPOSIT_CREDITED).exists()
