"""Operator alerts through Telegram: batched, at most once, and never in an order's way."""

import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from notifications import telegram
from notifications.delivery import notifications_deliver
from notifications.models import Kind, Notification, Status
from notifications.services import (
    needs_review_event,
    notifications_add,
    notify_deposit_unmatched,
    notify_provider_credentials_failed,
)
from tests.notifications.telegram_stub import TelegramStub

TOKEN = "123456:SECRET-token"


@pytest.fixture
def stub(settings: object) -> Iterator[TelegramStub]:
    with TelegramStub() as server:
        settings.PANEL_TELEGRAM_BOT_TOKEN = TOKEN  # type: ignore[attr-defined]
        settings.PANEL_TELEGRAM_CHAT_ID = "-1001"  # type: ignore[attr-defined]
        settings.PANEL_TELEGRAM_API_URL = server.url  # type: ignore[attr-defined]
        yield server


def _alerts(n: int) -> None:
    notifications_add(
        events=[
            needs_review_event(event_id=i, target="order", target_id=1000 + i, message="timeout")
            for i in range(1, n + 1)
        ]
    )


def _statuses() -> set[str]:
    return set(Notification.objects.values_list("status", flat=True))


def test_a_storm_of_alerts_goes_out_as_one_message(stub: TelegramStub, db: None) -> None:
    # given 500 orders gone to review and an unmatched deposit
    _alerts(500)
    notify_deposit_unmatched(
        deposit_id=9, reference="FT123", amount=Decimal("50000"), currency="VND", gateway="sepay"
    )

    # when
    counts = notifications_deliver()
    notifications_deliver()

    # then: one message, counts and the first few of each kind
    assert len(stub.messages) == 1 and counts.messages == 1 and counts.sent == 501
    text = stub.messages[0]["text"]
    assert "Needs review: 500" in text and "Order #1001: timeout" in text
    assert "… and 485 more" in text and "50,000 ₫ via sepay (reference FT123)" in text
    assert stub.messages[0]["chat_id"] == "-1001"
    assert stub.paths == [f"/bot{TOKEN}/sendMessage"]
    # The unmatched deposit's staff email finds no staff address here: skipped.
    assert _statuses() == {Status.SENT, Status.SKIPPED}
    assert Notification.objects.filter(status=Status.SKIPPED).get().channel == "staff_email"


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (500, {"ok": False, "error_code": 500}, Status.UNKNOWN),
        (502, None, Status.UNKNOWN),
        (401, {"ok": False, "description": "Unauthorized"}, Status.FAILED),
        (429, {"ok": False, "parameters": {"retry_after": 30}}, Status.PENDING),
    ],
)
def test_telegram_answers_decide_whether_an_alert_may_be_sent_again(
    stub: TelegramStub, db: None, status: int, body: dict | None, outcome: str
) -> None:
    _alerts(3)
    stub.answer(status, body)

    notifications_deliver()
    notifications_deliver()  # a second run resends nothing whose outcome is unknown

    assert _statuses() == {outcome}
    assert len(stub.paths) == 1
    if outcome == Status.PENDING:  # Telegram said "not now": retried after what it asked
        row = Notification.objects.first()
        assert row.next_attempt_at >= timezone.now() + timedelta(seconds=29)


def test_a_read_timeout_is_an_unknown_outcome_and_is_not_resent(
    stub: TelegramStub, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram, "READ_TIMEOUT", 0.3)
    _alerts(2)
    stub.answer(200, delay=1.0)

    counts = notifications_deliver()

    assert counts.unknown == 2 and _statuses() == {Status.UNKNOWN}
    assert TOKEN not in Notification.objects.first().error


def test_an_unreachable_telegram_is_retried_later(db: None, settings: object) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there: connection refused
    settings.PANEL_TELEGRAM_BOT_TOKEN = TOKEN  # type: ignore[attr-defined]
    settings.PANEL_TELEGRAM_CHAT_ID = "-1001"  # type: ignore[attr-defined]
    settings.PANEL_TELEGRAM_API_URL = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    _alerts(2)

    counts = notifications_deliver()

    row = Notification.objects.first()
    assert counts.retried == 2 and row.status == Status.PENDING and row.attempts == 1
    assert TOKEN not in row.error


def test_alerts_are_dropped_while_telegram_is_not_configured(db: None) -> None:
    _alerts(2)
    notify_provider_credentials_failed(
        provider_id=1, name="P", message="Invalid API key", failed_at=timezone.now()
    )
    assert not Notification.objects.exists()


def test_alerts_left_pending_when_telegram_is_turned_off_are_skipped(
    stub: TelegramStub, db: None
) -> None:
    _alerts(2)
    with override_settings(PANEL_TELEGRAM_BOT_TOKEN=""):
        counts = notifications_deliver()
    assert counts.skipped == 2 and stub.paths == []
    assert Notification.objects.filter(kind=Kind.OPS_NEEDS_REVIEW, status="skipped").count() == 2
