"""The sender: each outbox row goes out at most once, whatever dies on the way."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from notifications.delivery import LEASE, MAX_ATTEMPTS, notifications_deliver
from notifications.models import Notification, Status
from notifications.services import (
    notification_retry,
    notify_deposit_credited,
    preferences_update,
)
from tests.e2e.processes import PG
from tests.factories import UserFactory
from tests.notifications.mail_backends import WorkerKilled

BACKENDS = "tests.notifications.mail_backends"


def _statuses() -> list[str]:
    return list(Notification.objects.order_by("id").values_list("status", flat=True))


def test_pending_emails_are_sent_once_and_marked_sent(
    order_emails: Callable[..., list[Notification]],
) -> None:
    order_emails(3)

    first = notifications_deliver()
    second = notifications_deliver()

    assert len(mail.outbox) == 3 and first.sent == 3 and second.sent == 0
    assert _statuses() == ["sent"] * 3
    assert mail.outbox[0].to == ["alice@example.com"]
    assert "Order 1 is completed" in mail.outbox[0].subject


def test_a_worker_killed_mid_send_never_sends_that_row_again_and_sends_the_rest_once(
    order_emails: Callable[..., list[Notification]],
) -> None:
    # given three pending emails, and a worker that dies handing over the second
    rows = order_emails(3)
    with (
        override_settings(EMAIL_BACKEND=f"{BACKENDS}.DiesOnSecondMessage"),
        pytest.raises(WorkerKilled),
    ):
        notifications_deliver()
    assert _statuses() == ["sent", "sending", "claimed"]

    # when another worker runs before and after the dead one's lease ran out
    early = notifications_deliver()
    with time_machine.travel(timezone.now() + LEASE + timedelta(seconds=1)):
        late = notifications_deliver()
        again = notifications_deliver()

    # then: the row in hand is not resent (it may have gone out), the untouched one is sent once
    assert early.sent == 0
    assert (late.abandoned, late.released, late.sent, again.sent) == (1, 1, 1, 0)
    assert _statuses() == ["sent", "unknown", "sent"]
    assert [m.subject.split(" · ")[0] for m in mail.outbox] == [
        "Order 1 is completed",
        "Order 3 is completed",
    ]
    unknown = Notification.objects.get(pk=rows[1].pk)
    assert "not resent" in unknown.error


@pytest.mark.django_db(transaction=True)
def test_a_sender_process_killed_with_sigkill_mid_send_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    # given two pending emails, committed, and a real sender process that hangs on the first
    from notifications.services import notifications_add, order_final_event

    user = UserFactory(username="dora")
    notifications_add(
        events=[
            order_final_event(order_id=i, user_id=user.pk, status="Completed", refund=Decimal(0))
            for i in (1, 2)
        ]
    )
    marker = tmp_path / "sending"
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{connection.settings_dict['NAME']}",
        "PANEL_TEST_SENDING_MARKER": str(marker),
    }
    code = (
        "import django; django.setup();"
        "from django.test.utils import override_settings;"
        "from notifications.delivery import notifications_deliver;"
        f"override_settings(EMAIL_BACKEND='{BACKENDS}.HangsWhileSending').enable();"
        "notifications_deliver()"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline and worker.poll() is None, "the sender never started"
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL: no cleanup of any kind runs
        worker.wait()
    assert _statuses() == ["sending", "claimed"]

    # when a new worker runs after the lease ran out
    with time_machine.travel(timezone.now() + LEASE + timedelta(seconds=1)):
        counts = notifications_deliver()
        notifications_deliver()

    # then: the first (maybe sent) is never resent; the second (never handed over) goes once
    assert (counts.abandoned, counts.released, counts.sent) == (1, 1, 1)
    assert _statuses() == ["unknown", "sent"]
    assert len(mail.outbox) == 1 and "Order 2" in mail.outbox[0].subject


def test_an_unknown_row_is_sent_again_only_when_an_admin_says_so(
    order_emails: Callable[..., list[Notification]],
) -> None:
    [row] = order_emails(1)
    with override_settings(EMAIL_BACKEND=f"{BACKENDS}.DropsAfterData"):
        counts = notifications_deliver()
    assert counts.unknown == 1 and _statuses() == ["unknown"]
    notifications_deliver()
    assert mail.outbox == []

    assert notification_retry(notification_id=row.pk)
    notifications_deliver()

    assert len(mail.outbox) == 1 and _statuses() == ["sent"]


def test_a_mail_server_that_refuses_connections_is_retried_later_then_given_up(
    order_emails: Callable[..., list[Notification]],
) -> None:
    order_emails(1)
    with override_settings(EMAIL_BACKEND=f"{BACKENDS}.RefusesConnections"):
        counts = notifications_deliver()
        row = Notification.objects.get()
        assert counts.retried == 1 and row.status == Status.PENDING and row.attempts == 1
        assert row.next_attempt_at > timezone.now()
        assert notifications_deliver().retried == 0  # not due yet
        for _ in range(MAX_ATTEMPTS):
            Notification.objects.update(next_attempt_at=None)
            notifications_deliver()
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == MAX_ATTEMPTS


def test_a_refused_recipient_fails_without_retry(
    order_emails: Callable[..., list[Notification]],
) -> None:
    order_emails(1)
    with override_settings(EMAIL_BACKEND=f"{BACKENDS}.RefusesRecipient"):
        counts = notifications_deliver()
    assert counts.failed == 1 and _statuses() == ["failed"]


def test_emails_turned_off_and_users_without_address_are_skipped(customer: User) -> None:
    from notifications.services import notifications_add, order_final_event

    # given a customer who turned order and deposit emails off, and a user without an address
    preferences_update(user=customer, email_kinds=["refill_final", "ticket_answered"])
    nobody = UserFactory(username="noemail", email="")
    notifications_add(
        events=[
            order_final_event(
                order_id=1, user_id=customer.pk, status="Completed", refund=Decimal(0)
            ),
            order_final_event(order_id=2, user_id=nobody.pk, status="Completed", refund=Decimal(0)),
        ]
    )
    notify_deposit_credited(deposit_id=7, user_id=customer.pk, amount=Decimal("25"))

    # when
    counts = notifications_deliver()

    # then
    assert (counts.skipped, counts.sent) == (3, 0) and mail.outbox == []
    assert _statuses() == ["skipped"] * 3


def test_emails_are_rendered_in_the_customers_language(
    order_emails: Callable[..., list[Notification]],
    customer: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The language field arrives with the i18n work; the sender reads it when present and
    # renders under it, leaving the worker's own language as it was.
    from django.template.loader import render_to_string
    from django.utils import translation

    from notifications.emails import email_message, user_language

    [row] = order_emails(1)
    assert user_language(customer) == "en"
    customer.language = "vi"
    seen: list[str | None] = []

    def spy(*args: object, **kwargs: object) -> str:
        seen.append(translation.get_language())
        return render_to_string(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("notifications.emails.render_to_string", spy)
    with translation.override("en"):
        message = email_message(row, customer)
        assert translation.get_language() == "en"
    assert seen == ["vi", "vi"] and message.to == ["alice@example.com"]


def test_customer_text_in_emails_is_not_html_escaped(customer: User) -> None:
    from notifications.services import notify_ticket_answered

    notify_ticket_answered(ticket_id=3, message_id=9, user_id=customer.pk, subject='Tom & "Jerry"')
    notifications_deliver()
    assert 'Tom & "Jerry"' in mail.outbox[0].body


def test_the_admin_sends_an_unknown_row_again_only_with_the_permission(
    order_emails: Callable[..., list[Notification]], client: Client, staff: User
) -> None:
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    [row] = order_emails(1)
    Notification.objects.update(status=Status.UNKNOWN)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    url = reverse("admin:notifications_notification_changelist")
    data = {"action": "send_again", "_selected_action": [row.pk]}

    client.force_login(viewer)
    client.post(url, data)
    assert Notification.objects.get().status == Status.UNKNOWN
    client.force_login(staff)
    assert (
        client.get(reverse("admin:notifications_notification_change", args=[row.pk])).status_code
        == 200
    )
    client.post(url, data)
    assert Notification.objects.get().status == Status.PENDING
