"""Reads for the API page's webhooks section: a customer's endpoints and their recent deliveries,
each with its last attempt."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from notifications.models import (
    Channel,
    Notification,
    Status,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)

DELIVERIES_SHOWN = 25

# What each refusal or failure code means, in the reader's language.
ERROR_TEXTS = {
    "invalid_url": _("This is not a valid URL."),
    "https_required": _("The URL must start with https://."),
    "dns": _("The host name does not resolve."),
    "address_refused": _(
        "The address is private, local or reserved: webhooks go to public addresses only."
    ),
    "too_many": _("You already have 5 endpoints: delete one first."),
    "duplicate": _("This URL is already registered."),
    "no_events": _("Choose at least one event."),
    "not_found": _("This endpoint does not exist."),
    "connect": _("Could not connect"),
    "timeout": _("No answer in time"),
    "http_error": _("Broken HTTP answer"),
}

EVENT_LABELS = {**dict(WebhookEvent.choices), "ping": _("Test event")}


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    created_at: datetime
    event: str
    event_label: str
    event_id: str
    endpoint_url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last: WebhookAttempt | None

    @property
    def is_success(self) -> bool:
        return self.status == Status.SENT

    @property
    def is_waiting(self) -> bool:
        return self.status in (Status.PENDING, Status.CLAIMED, Status.SENDING)

    @property
    def can_resend(self) -> bool:
        return not self.is_waiting

    @property
    def error_text(self) -> str:
        if self.last is None or not self.last.error_code:
            return ""
        return str(ERROR_TEXTS.get(self.last.error_code, self.last.error_code))


def webhook_endpoints_of(*, user: User) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(user=user).order_by("id"))


def webhook_deliveries_of(*, user: User, limit: int = DELIVERIES_SHOWN) -> list[DeliveryRow]:
    urls = dict(WebhookEndpoint.objects.filter(user=user).values_list("pk", "url"))
    if not urls:
        return []
    last_attempts = Prefetch(
        "webhook_attempts", queryset=WebhookAttempt.objects.order_by("-id"), to_attr="tries"
    )
    rows = (
        Notification.objects.filter(channel=Channel.WEBHOOK, user=user, ref__in=list(urls))
        .order_by("-id")
        .prefetch_related(last_attempts)[:limit]
    )
    return [
        DeliveryRow(
            id=row.pk,
            created_at=row.created_at,
            event=str(row.payload.get("type", "")),
            event_label=str(EVENT_LABELS.get(str(row.payload.get("type", "")), "")),
            event_id=str(row.payload.get("id", "")),
            endpoint_url=urls.get(row.ref or 0, ""),
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last=row.tries[0] if row.tries else None,
        )
        for row in rows
    ]
