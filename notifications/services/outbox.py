"""The outbox's one write: events added under their unique keys."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from core.db.bulk import bulk_insert_values
from notifications.models import Channel, Notification, Status


@dataclass(frozen=True)
class Event:
    key: str
    kind: str
    channel: str
    user_id: int | None = None
    payload: dict[str, object] = field(default_factory=dict)
    ref: int | None = None


def telegram_enabled() -> bool:
    return bool(settings.PANEL_TELEGRAM_BOT_TOKEN and settings.PANEL_TELEGRAM_CHAT_ID)


def notifications_add(*, events: Iterable[Event]) -> None:
    """Write the events in one INSERT … ON CONFLICT DO NOTHING: an event already written (its
    key exists) is left alone. Operator events are dropped while Telegram is not configured."""
    has_telegram = telegram_enabled()
    now = timezone.now()
    # Column values, not model instances: a poll writes one row per finished order, hundreds
    # per chunk, and building and adapting instances cost more than the insert itself.
    rows: list[dict[str, object]] = [
        {
            "key": event.key[:200],
            "kind": event.kind,
            "channel": event.channel,
            "user_id": event.user_id,
            "payload": event.payload,
            "ref": event.ref,
        }
        for event in events
        if event.channel != Channel.TELEGRAM or has_telegram
    ]
    same = {"status": Status.PENDING, "attempts": 0, "claim_token": "", "error": ""}
    bulk_insert_values(Notification, rows, same={**same, "created_at": now}, ignore_conflicts=True)
