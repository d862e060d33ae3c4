"""Deposits tell people through the outbox: the customer gets "deposit credited" once per
deposit, in their language; the operators get one alert per transfer that matches nobody.
Replays and a second reporter of the same transfer never write a second one."""

import pytest
from django.core import mail
from django.test import Client, override_settings

from accounts.models import User
from notifications.delivery import notifications_deliver
from notifications.models import Channel, Kind, Notification
from payments.models import Deposit
from tests.payments.senders import casso_body, post_casso, post_sepay, sepay_body

pytestmark = [pytest.mark.usefixtures("bank"), pytest.mark.django_db]

REFERENCE = "FT26339000000042"


def _sepay(content: str) -> dict:
    return sepay_body(
        transfer_id=701,
        amount=250000,
        content=content,
        referenceCode=REFERENCE,
        transactionDate="2026-12-05 09:30:00",
    )


def _casso(content: str) -> dict:
    body = casso_body(transfer_id=8801, amount=250000, description=content)
    body["data"]["reference"] = REFERENCE
    body["data"]["transactionDateTime"] = "2026-12-05 09:30:05"
    return body


def _rows(kind: str) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(kind=kind).values_list("channel", "key"))


def test_a_credited_transfer_emails_the_customer_once_in_their_language(
    client: Client, customer: User
) -> None:
    # given: a customer who reads Vietnamese
    customer.language = "vi"
    customer.save(update_fields=["language"])

    # when: SePay reports the transfer three times, and Casso reports it too
    for _ in range(3):
        assert post_sepay(client, _sepay(f"NAP{customer.pk}")).status_code == 200
    assert post_casso(client, _casso(f"NAP{customer.pk}")).status_code == 200
    notifications_deliver()
    notifications_deliver()

    # then: one email, about this deposit, in Vietnamese
    deposit = Deposit.objects.get()
    assert _rows(Kind.DEPOSIT_CREDITED) == [(Channel.EMAIL, f"deposit-credited:{deposit.pk}")]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert message.subject.startswith("Đã cộng 10")
    assert "vào số dư" in message.subject


@override_settings(PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="42")
def test_an_unmatched_transfer_alerts_the_operators_once(client: Client, staff: User) -> None:
    # when: a transfer naming nobody, replayed, and reported by Casso as well
    for _ in range(2):
        assert post_sepay(client, _sepay("chuyen tien")).status_code == 200
    assert post_casso(client, _casso("chuyen tien")).status_code == 200

    # then: one staff email and one Telegram line for the deposit, nothing for a customer
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.UNMATCHED
    key = f"deposit-unmatched:{deposit.pk}"
    assert sorted(_rows(Kind.OPS_DEPOSIT_UNMATCHED)) == [
        (Channel.STAFF_EMAIL, f"staff-email:{key}"),
        (Channel.TELEGRAM, key),
    ]
    telegram = Notification.objects.get(channel=Channel.TELEGRAM)
    assert telegram.payload == {
        "deposit_id": deposit.pk,
        "reference": "701",
        "amount": "250000",
        "currency": "VND",
        "gateway": "sepay",
        "gateway_name": "Bank transfer (SePay)",
    }
    assert not Notification.objects.filter(kind=Kind.DEPOSIT_CREDITED).exists()


def test_the_unmatched_alert_reaches_the_staff_by_email(client: Client, staff: User) -> None:
    post_sepay(client, _sepay("chuyen tien"))
    post_sepay(client, _sepay("chuyen tien"))
    notifications_deliver()

    [message] = mail.outbox
    deposit = Deposit.objects.get()
    assert message.to == [staff.email]
    assert f"Deposit #{deposit.pk} matches no customer" in message.subject
    assert "250,000 ₫" in message.body and "(Bank transfer (SePay) 701)" in message.body


def test_assigning_an_unmatched_transfer_emails_the_customer(
    client: Client, customer: User, staff: User
) -> None:
    # given
    post_sepay(client, _sepay("chuyen tien"))
    deposit = Deposit.objects.get()

    # when: an admin assigns it, and the transfer is reported again afterwards
    client.force_login(staff)
    url = f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/"
    assert client.post(url, {"username": customer.username}).status_code == 302
    post_casso(Client(), _casso("chuyen tien"))
    notifications_deliver()

    # then: the customer hears of it once (the staff heard of the unmatched transfer before)
    to_customer = [message for message in mail.outbox if message.to == [customer.email]]
    assert len(to_customer) == 1
    assert _rows(Kind.DEPOSIT_CREDITED) == [(Channel.EMAIL, f"deposit-credited:{deposit.pk}")]
