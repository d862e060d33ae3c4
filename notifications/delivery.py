"""Sending the outbox, at most once per row.

A sender run claims pending rows (SELECT … FOR UPDATE SKIP LOCKED, so several workers share
the work) and marks them `claimed` under a lease and a token of its own. Right before a row is
handed to the mail server or Telegram it moves to `sending`, committed; right after, to `sent`
(or another outcome). A worker killed along the way leaves two kinds of rows behind:

- `claimed`: never handed over, provably unsent. When the lease runs out they go back to
  `pending` and are sent by the next run.
- `sending`: handed over, outcome unknown (the mail may be out; the worker died before writing
  it down). When the lease runs out they become `unknown` and are NOT resent: a customer
  never gets the same email twice. An admin can look and send one again (notification_retry).

A worker can leave at most one email row (the one in hand) or one Telegram batch in `sending`.
Failures that prove nothing left (the mail server refused the connection, Telegram was not
reachable or answered 429) go back to `pending` with a back-off.
"""

import logging
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.digest import digest_text
from notifications.emails import email_message, staff_email_message, telegram_text
from notifications.models import Channel, Notification, Preferences, Status
from notifications.selectors import telegram_bot_active, telegram_chats
from notifications.services import staff_recipients, telegram_enabled
from notifications.telegram import (
    TelegramAmbiguous,
    TelegramNeverSent,
    TelegramRejected,
    bot_send_message,
    telegram_send,
)

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
EMAIL_BATCH = 50
TELEGRAM_BATCH = 2000  # one Telegram message per batch: a storm is a few messages
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
SEND_BUDGET_SECONDS = 60.0  # well inside the task's time limit and the lease
UNKNOWN_MESSAGE = "The sender stopped while handing it over: it may have gone out, not resent"
# Answers after which the mail server has certainly not delivered the message.
_SMTP_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass
class DeliveryCounts:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    released: int = 0
    abandoned: int = 0
    messages: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2**attempts, RETRY_CAP_SECONDS))


def outbox_release_expired(*, now: datetime) -> tuple[int, int]:
    """Rows whose sender died: `claimed` ones go back to pending, `sending` ones to unknown.
    Webhook rows are left to their own sender, which may send one twice (webhooks.sender)."""
    rows = Notification.objects.exclude(channel=Channel.WEBHOOK)
    released = rows.filter(status=Status.CLAIMED, lease_until__lt=now).update(
        status=Status.PENDING, lease_until=None, claim_token=""
    )
    abandoned = rows.filter(status=Status.SENDING, lease_until__lt=now).update(
        status=Status.UNKNOWN, lease_until=None, error=UNKNOWN_MESSAGE
    )
    if abandoned:
        logger.warning("%d notifications left mid-send by a dead worker: not resent", abandoned)
    return released, abandoned


def _claim(channel: str, limit: int, now: datetime, token: str) -> list[Notification]:
    with transaction.atomic():
        pks = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(channel=channel, status=Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("id")
            .values_list("pk", flat=True)[:limit]
        )
        if pks:
            Notification.objects.filter(pk__in=pks).update(
                status=Status.CLAIMED, lease_until=now + LEASE, claim_token=token
            )
    rows = Notification.objects.filter(pk__in=pks, claim_token=token, status=Status.CLAIMED)
    # The customer's child panel names the panel and the host of the email's link.
    return list(rows.select_related("user__child_panel").order_by("id"))


def _move(pks: list[int], token: str, from_status: str, **values: object) -> int:
    """A conditional update: only rows this run still holds in `from_status` move."""
    return Notification.objects.filter(pk__in=pks, claim_token=token, status=from_status).update(
        **values
    )


def _finish(pks: list[int], token: str, status: str, error: str = "", via: str = "") -> int:
    now = timezone.now()
    return _move(
        pks,
        token,
        Status.SENDING,
        status=status,
        error=error[:500],
        lease_until=None,
        sent_at=now if status == Status.SENT else None,
        sent_via=via,
    )


def _retry_later(
    pks: list[int], token: str, from_status: str, error: str, delay: timedelta | None = None
) -> int:
    """Back to pending after a failure that proves nothing left; failed after MAX_ATTEMPTS."""
    rows = Notification.objects.filter(pk__in=pks, claim_token=token, status=from_status)
    rows.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=Status.FAILED, attempts=F("attempts") + 1, error=error[:500], lease_until=None
    )
    retried = 0
    for attempts in set(rows.values_list("attempts", flat=True)):
        retried += rows.filter(attempts=attempts).update(
            status=Status.PENDING,
            attempts=attempts + 1,
            error=error[:500],
            lease_until=None,
            claim_token="",
            next_attempt_at=timezone.now() + (delay or _retry_delay(attempts)),
        )
    return retried


def _release(pks: list[int], token: str) -> int:
    """Claimed rows this run did not get to: back to the queue at once, no attempt counted."""
    return _move(
        pks, token, Status.CLAIMED, status=Status.PENDING, lease_until=None, claim_token=""
    )


def _without_recipient(rows: list[Notification]) -> list[Notification]:
    """Rows not to send: no address, an inactive account, or the kind turned off."""
    preferences = {
        p.user_id: p for p in Preferences.objects.filter(user_id__in={r.user_id for r in rows})
    }
    return [
        row
        for row in rows
        if row.user is None
        or not row.user.email
        or not row.user.is_active
        or (row.user_id in preferences and not preferences[row.user_id].wants(row.kind))
    ]


def _send_one(
    row: Notification,
    build: Callable[[Notification], EmailMessage],
    connection: object,
    token: str,
    counts: DeliveryCounts,
) -> None:
    try:
        message = build(row)
    except Exception as exc:  # a template bug: sending it again would fail the same way
        logger.exception("notification %s could not be rendered", row.pk)
        _move([row.pk], token, Status.CLAIMED, status=Status.FAILED, error=repr(exc)[:500])
        counts.failed += 1
        return
    if not _move(
        [row.pk], token, Status.CLAIMED, status=Status.SENDING, lease_until=timezone.now() + LEASE
    ):
        return  # the lease ran out and another run took it
    try:
        connection.send_messages([message])  # type: ignore[attr-defined]
    except _SMTP_REFUSED as exc:
        counts.failed += _finish([row.pk], token, Status.FAILED, f"refused: {exc!r}")
    except Exception as exc:
        # Anything else after the hand-over (a dropped connection, a timeout) may have come
        # after the server took the message: never resent automatically.
        counts.unknown += _finish([row.pk], token, Status.UNKNOWN, f"outcome unknown: {exc!r}")
    else:
        counts.sent += _finish([row.pk], token, Status.SENT)


def _by_telegram(rows: list[Notification]) -> dict[int, int]:
    """Customer rows the customer chose to get in Telegram, with a chat linked and the bot on:
    row id → chat id. The choice is read when the row is sent, so one row is one message, by
    email or by Telegram, whatever the customer changed in between."""
    if not rows or telegram_bot_active() is None:
        return {}
    users = {row.user.pk for row in rows if row.user is not None and row.user.is_active}
    chats = telegram_chats(user_ids=users)
    preferences = {p.user_id: p for p in Preferences.objects.filter(user_id__in=chats.keys())}
    return {
        row.pk: chats[row.user_id]
        for row in rows
        if row.user_id in preferences and preferences[row.user_id].wants_telegram(row.kind)
    }


def _send_telegram_one(row: Notification, chat_id: int, bot_token: str, token: str) -> str:
    """One customer row to their chat; the outcome's counter name."""
    try:
        text = telegram_text(row, row.user)  # type: ignore[arg-type]
    except Exception as exc:  # a template bug: sending it again would fail the same way
        logger.exception("notification %s could not be rendered", row.pk)
        _move([row.pk], token, Status.CLAIMED, status=Status.FAILED, error=repr(exc)[:500])
        return "failed"
    if not _move(
        [row.pk], token, Status.CLAIMED, status=Status.SENDING, lease_until=timezone.now() + LEASE
    ):
        return ""
    try:
        bot_send_message(token=bot_token, chat_id=chat_id, text=text)
    except TelegramNeverSent as exc:
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        _retry_later([row.pk], token, Status.SENDING, exc.message, delay)
        return "retried"
    except TelegramRejected as exc:  # the customer blocked the bot, or left the chat
        _finish([row.pk], token, Status.FAILED, f"rejected: {exc.message}", via="telegram")
        return "failed"
    except TelegramAmbiguous as exc:
        _finish([row.pk], token, Status.UNKNOWN, f"outcome unknown: {exc.message}", "telegram")
        return "unknown"
    _finish([row.pk], token, Status.SENT, via="telegram")
    return "sent"


def _deliver_by_telegram(
    rows: list[Notification],
    chats: dict[int, int],
    token: str,
    deadline: float,
    counts: DeliveryCounts,
) -> None:
    bot = telegram_bot_active()
    if bot is None:  # switched off since _by_telegram looked: back to the queue, by email
        counts.released += _release([row.pk for row in rows], token)
        return
    bot_token = bot.token
    for index, row in enumerate(rows):
        if time.monotonic() > deadline:
            counts.released += _release([r.pk for r in rows[index:]], token)
            return
        outcome = _send_telegram_one(row, chats[row.pk], bot_token, token)
        if outcome:
            setattr(counts, outcome, getattr(counts, outcome) + 1)


def _email_builder(
    channel: str, rows: list[Notification]
) -> tuple[list[Notification], Callable[[Notification], EmailMessage]]:
    """The rows nobody should get, and how to build the others' message."""
    if channel == Channel.STAFF_EMAIL:
        recipients = staff_recipients()
        return ([] if recipients else rows), lambda row: staff_email_message(row, recipients)
    return _without_recipient(rows), lambda row: email_message(row, row.user)


def emails_deliver(
    *, token: str, deadline: float, counts: DeliveryCounts, channel: str = Channel.EMAIL
) -> int:
    """Send one batch of customer (or staff) emails; returns how many rows were claimed."""
    rows = _claim(channel, EMAIL_BATCH, timezone.now(), token)
    if not rows:
        return 0
    claimed = len(rows)
    if channel == Channel.EMAIL and (chats := _by_telegram(rows)):
        _deliver_by_telegram([r for r in rows if r.pk in chats], chats, token, deadline, counts)
        rows = [row for row in rows if row.pk not in chats]
        if not rows:
            return claimed
    skip, build = _email_builder(channel, rows)
    counts.skipped += _move(
        [row.pk for row in skip], token, Status.CLAIMED, status=Status.SKIPPED, lease_until=None
    )
    rows = [row for row in rows if row not in skip]
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:  # no connection: nothing was handed over
        counts.retried += _retry_later(
            [row.pk for row in rows], token, Status.CLAIMED, f"mail server: {exc!r}"
        )
        return claimed
    try:
        for index, row in enumerate(rows):
            if time.monotonic() > deadline:
                counts.released += _release([r.pk for r in rows[index:]], token)
                break
            _send_one(row, build, connection, token, counts)
    finally:
        connection.close()
    return claimed


def telegram_deliver(*, token: str, counts: DeliveryCounts) -> int:
    """Send one digest of pending operator alerts; returns how many rows were claimed."""
    if not telegram_enabled():
        # Written while Telegram was configured, and it no longer is: nobody to tell.
        counts.skipped += Notification.objects.filter(
            channel=Channel.TELEGRAM, status=Status.PENDING
        ).update(status=Status.SKIPPED, error="Telegram is not configured")
        return 0
    rows = _claim(Channel.TELEGRAM, TELEGRAM_BATCH, timezone.now(), token)
    if not rows:
        return 0
    pks = [row.pk for row in rows]
    sending = {"status": Status.SENDING, "lease_until": timezone.now() + LEASE}
    if _move(pks, token, Status.CLAIMED, **sending) != len(pks):
        held = Notification.objects.filter(pk__in=pks, claim_token=token, status=Status.SENDING)
        rows = list(held.order_by("id"))
        pks = [row.pk for row in rows]
    try:
        telegram_send(text=digest_text(rows))
    except TelegramNeverSent as exc:
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        counts.retried += _retry_later(pks, token, Status.SENDING, exc.message, delay)
    except TelegramRejected as exc:
        counts.failed += _finish(pks, token, Status.FAILED, f"rejected: {exc.message}")
    except TelegramAmbiguous as exc:
        counts.unknown += _finish(pks, token, Status.UNKNOWN, f"outcome unknown: {exc.message}")
    else:
        counts.messages += 1
        counts.sent += _finish(pks, token, Status.SENT)
    return len(rows)


def notifications_deliver(*, budget_seconds: float = SEND_BUDGET_SECONDS) -> DeliveryCounts:
    """One sender run: settle what dead workers left, then send emails and one Telegram digest."""
    token = uuid.uuid4().hex
    counts = DeliveryCounts()
    counts.released, counts.abandoned = outbox_release_expired(now=timezone.now())
    deadline = time.monotonic() + budget_seconds
    for channel in (Channel.STAFF_EMAIL, Channel.EMAIL):
        while time.monotonic() < deadline and emails_deliver(
            token=token, deadline=deadline, counts=counts, channel=channel
        ):
            pass
    telegram_deliver(token=token, counts=counts)
    return counts
