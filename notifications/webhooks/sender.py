"""Posting webhook rows of the outbox: claimed like every other row (notifications.delivery),
signed, sent through the guarded HTTP module, each attempt logged with its answer.

Unlike an email, a webhook may be sent twice: every body carries its event id, and receivers
deduplicate on it (docs/protocol.md). So any failure, an unknown outcome included, is retried
with exponential back-off for about a day; a row a dead worker left mid-send goes back to the
queue too (`webhooks_release_expired`).
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from core.secrets import decrypt_secret
from notifications.delivery import LEASE, _claim, _move
from notifications.models import Channel, Notification, Status, WebhookAttempt, WebhookEndpoint
from notifications.webhooks.delivery import Answer, webhook_post
from notifications.webhooks.signing import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    signature_value,
)

BATCH = 20
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
# 30 s doubling to an hour, then hourly: the 30th attempt comes about a day after the first.
MAX_ATTEMPTS = 30
BUDGET_SECONDS = 50.0


@dataclass
class WebhookCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** min(attempts, 12), RETRY_CAP_SECONDS))


def body_of(row: Notification) -> bytes:
    return json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()


def webhooks_release_expired() -> int:
    """Rows a dead sender left: back to the queue (a second POST is harmless, see above)."""
    return Notification.objects.filter(
        channel=Channel.WEBHOOK,
        status__in=[Status.CLAIMED, Status.SENDING],
        lease_until__lt=timezone.now(),
    ).update(status=Status.PENDING, lease_until=None, claim_token="")


def _post(endpoint: WebhookEndpoint, row: Notification) -> Answer:
    body = body_of(row)
    timestamp = int(time.time())
    secret = decrypt_secret(endpoint.secret_encrypted)
    headers = {
        SIGNATURE_HEADER: signature_value(secret=secret, body=body, timestamp=timestamp),
        EVENT_HEADER: str(row.payload.get("type", "")),
        EVENT_ID_HEADER: str(row.payload.get("id", "")),
    }
    return webhook_post(url=endpoint.url, body=body, headers=headers)


def _record(row: Notification, endpoint: WebhookEndpoint, answer: Answer) -> None:
    WebhookAttempt.objects.create(
        notification=row,
        endpoint=endpoint,
        status_code=answer.status_code,
        is_success=answer.is_success,
        answer_excerpt=answer.excerpt,
        error_code=answer.error_code,
        duration_ms=answer.duration_ms,
    )


def _settle(row: Notification, token: str, answer: Answer, counts: WebhookCounts) -> None:
    mine = Notification.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING)
    error = answer.error_code or f"HTTP {answer.status_code}"
    if answer.is_success:
        counts.sent += mine.update(
            status=Status.SENT, error="", lease_until=None, sent_at=timezone.now()
        )
    elif row.attempts + 1 >= MAX_ATTEMPTS:
        counts.failed += mine.update(
            status=Status.FAILED, attempts=F("attempts") + 1, error=error, lease_until=None
        )
    else:
        counts.retried += mine.update(
            status=Status.PENDING,
            attempts=F("attempts") + 1,
            error=error,
            lease_until=None,
            claim_token="",
            next_attempt_at=timezone.now() + retry_delay(row.attempts),
        )


def webhook_deliver_one(row: Notification, token: str, counts: WebhookCounts) -> None:
    endpoint = WebhookEndpoint.objects.filter(pk=row.ref or 0).first()
    if endpoint is None:
        counts.skipped += _move(
            [row.pk], token, Status.CLAIMED, status=Status.SKIPPED, error="endpoint deleted"
        )
        return
    sending = {"status": Status.SENDING, "lease_until": timezone.now() + LEASE}
    if not _move([row.pk], token, Status.CLAIMED, **sending):
        return  # the lease ran out and another run took it
    answer = _post(endpoint, row)
    _record(row, endpoint, answer)
    _settle(row, token, answer, counts)


def webhooks_deliver(*, budget_seconds: float = BUDGET_SECONDS) -> WebhookCounts:
    """One sender run: batches of due webhook rows until none is left or the budget is spent.
    Several runs share the queue (rows are claimed with SKIP LOCKED)."""
    token = uuid.uuid4().hex
    counts = WebhookCounts()
    webhooks_release_expired()
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        rows = _claim(Channel.WEBHOOK, BATCH, timezone.now(), token)
        if not rows:
            break
        for index, row in enumerate(rows):
            if time.monotonic() > deadline:
                _move(
                    [r.pk for r in rows[index:]],
                    token,
                    Status.CLAIMED,
                    status=Status.PENDING,
                    lease_until=None,
                    claim_token="",
                )
                break
            webhook_deliver_one(row, token, counts)
    return counts
