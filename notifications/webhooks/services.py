"""Every write of webhooks: customers' endpoints, and the outbox rows of the events they hear.

Higher apps tell this module what happened (an order's status, a refill finished) inside the
transaction that made it happen, through `webhooks_for_orders` / `webhooks_for_refills`; each
event and endpoint becomes one outbox row under a unique key, so a replayed poll writes it once.
A sender (`sender.py`) posts them after the commit.
"""

import hashlib
import time
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple

from celery import current_app
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from core.errors import PanelError
from core.money import money_str
from core.secrets import encrypt_secret
from notifications.models import (
    Channel,
    Kind,
    Notification,
    Status,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.services import Event, notifications_add
from notifications.webhooks.delivery import url_problem
from notifications.webhooks.signing import secret_new

MAX_ENDPOINTS = 5
DELIVER_TASK = "notifications.tasks.webhooks_deliver_task"


class WebhookRefused(PanelError):
    """A bad endpoint: `code` says why (notifications.webhooks.selectors.ERROR_TEXTS)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class StatusChange(NamedTuple):
    """One order's or refill's new status, as the lifecycle wrote it. A named tuple: a poll
    builds one per changed row."""

    id: int
    user_id: int
    status: str
    old_status: str
    is_final: bool


def _event_id(key: str) -> str:
    """The same event always has the same id (receivers deduplicate on it)."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _webhook_event(
    endpoint_id: int, user_id: int, event: str, key: str, data: dict[str, object]
) -> Event:
    return Event(
        key=f"webhook:{endpoint_id}:{key}",
        kind=Kind.WEBHOOK,
        channel=Channel.WEBHOOK,
        user_id=user_id,
        payload={
            "id": _event_id(f"{user_id}:{key}"),
            "type": event,
            "created": int(time.time()),
            "data": data,
        },
        ref=endpoint_id,
    )


def _kick_sender() -> None:
    """Post new rows right after the commit rather than at the sender's next beat: a webhook's
    point is to arrive before the reseller's next poll. By name (the tasks import this module),
    and robust: a broker outage must not fail the commit's other callbacks; beat's sender
    run picks the rows up anyway."""

    def publish() -> None:
        current_app.send_task(DELIVER_TASK)

    transaction.on_commit(publish, robust=True)


def _endpoints(user_ids: Iterable[int]) -> dict[int, list[tuple[int, list[str]]]]:
    """The users' endpoints (id, events), by user; only users who have one."""
    by_user: dict[int, list[tuple[int, list[str]]]] = {}
    for pk, user_id, events in WebhookEndpoint.objects.filter(
        user_id__in=set(user_ids)
    ).values_list("pk", "user_id", "events"):
        by_user.setdefault(user_id, []).append((pk, events))
    return by_user


def _fan_out(
    by_user: dict[int, list[tuple[int, list[str]]]],
    build: dict[str, list[tuple[int, str, dict]]],
) -> None:
    """`build` maps an event type to (user id, key, data) triples; each becomes one row per
    subscribed endpoint of that user (`by_user`, from `_endpoints`)."""
    rows = [
        _webhook_event(pk, user_id, event, key, data)
        for event, items in build.items()
        for user_id, key, data in items
        for pk, events in by_user.get(user_id, ())
        if event in events
    ]
    if rows:
        notifications_add(events=rows)
        _kick_sender()


def webhooks_for_orders(*, changes: Sequence[StatusChange]) -> None:
    """Orders whose status changed in the caller's transaction. One query when nobody listens,
    and nothing built for the orders of customers without an endpoint (a poll passes
    thousands)."""
    if not changes:
        return
    by_user = _endpoints({change.user_id for change in changes})
    if not by_user:
        return
    build: dict[str, list[tuple[int, str, dict]]] = {
        WebhookEvent.ORDER_STATUS: [],
        WebhookEvent.ORDER_FINISHED: [],
    }
    for change in changes:
        if change.user_id not in by_user:
            continue
        data = {"order": change.id, "status": change.status, "previous_status": change.old_status}
        key = f"order-status:{change.id}:{change.status}"
        build[WebhookEvent.ORDER_STATUS].append((change.user_id, key, data))
        if change.is_final:
            key = f"order-finished:{change.id}"
            build[WebhookEvent.ORDER_FINISHED].append((change.user_id, key, data))
    _fan_out(by_user, build)


def webhooks_for_refills(*, changes: Sequence[StatusChange], order_ids: dict[int, int]) -> None:
    """Refills that reached a final status in the caller's transaction (`order_ids`: each
    refill's order)."""
    finished = [change for change in changes if change.is_final]
    if not finished:
        return
    by_user = _endpoints({change.user_id for change in finished})
    if not by_user:
        return
    items = [
        (
            change.user_id,
            f"refill-finished:{change.id}",
            {"refill": change.id, "order": order_ids.get(change.id), "status": change.status},
        )
        for change in finished
    ]
    _fan_out(by_user, {WebhookEvent.REFILL_FINISHED: items})


# --- Balance low ---------------------------------------------------------------------------


def webhooks_balance_watch() -> int:
    """Fire `balance.low` for endpoints whose customer's balance dropped under their threshold
    since the last run, and re-arm those whose balance is back at or above it. Once per
    crossing: the conditional updates make a racing run fire nothing twice. Returns how many
    fired. Only endpoints with a threshold are read (a partial index holds them)."""
    watched = WebhookEndpoint.objects.filter(balance_threshold__isnull=False)
    now = timezone.now()
    watched.filter(balance_low_at__isnull=False, user__balance__gte=F("balance_threshold")).update(
        balance_low_at=None
    )
    fired = 0
    crossing = watched.filter(
        balance_low_at__isnull=True, user__balance__lt=F("balance_threshold")
    ).values_list(
        "pk", "user_id", "user__balance", "balance_threshold", "balance_low_count", "events"
    )
    for pk, user_id, balance, threshold, count, events in crossing:
        with transaction.atomic():
            moved = WebhookEndpoint.objects.filter(pk=pk, balance_low_at__isnull=True).update(
                balance_low_at=now, balance_low_count=count + 1
            )
            if not moved:
                continue
            fired += 1
            if WebhookEvent.BALANCE_LOW in events:
                data = _balance_data(balance, threshold)
                event = _webhook_event(
                    pk, user_id, WebhookEvent.BALANCE_LOW, f"balance-low:{pk}:{count + 1}", data
                )
                notifications_add(events=[event])
                _kick_sender()
    return fired


def _balance_data(balance: Decimal, threshold: Decimal) -> dict[str, object]:
    from django.conf import settings

    return {
        "balance": money_str(balance),
        "threshold": money_str(threshold),
        "currency": settings.PANEL_CURRENCY,
    }


# --- Endpoints -----------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = [value for value in WebhookEvent.values if value in set(events)]
    if not chosen:
        raise WebhookRefused("no_events")
    return chosen


def webhook_endpoint_create(
    *,
    user: User,
    url: str,
    events: Iterable[str],
    balance_threshold: Decimal | None = None,
    is_panel_subscription: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once, stored encrypted). Raises WebhookRefused.
    The per-customer limit is checked under a lock on the customer, so two racing adds cannot
    both be the fifth."""
    url = url.strip()
    chosen = _clean_events(events)
    if (problem := url_problem(url)) is not None:
        raise WebhookRefused(problem)
    secret = secret_new()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if WebhookEndpoint.objects.filter(user=user, url=url).exists():
            raise WebhookRefused("duplicate")
        endpoint = _create_locked(
            user=user,
            url=url,
            events=chosen,
            secret=secret,
            balance_threshold=balance_threshold,
            is_panel_subscription=is_panel_subscription,
        )
    return endpoint, secret


def _create_locked(
    *,
    user: User,
    url: str,
    events: list[str],
    secret: str,
    balance_threshold: Decimal | None,
    is_panel_subscription: bool,
) -> WebhookEndpoint:
    """Under the customer's row lock (the limit is counted under it)."""
    if WebhookEndpoint.objects.filter(user=user).count() >= MAX_ENDPOINTS:
        raise WebhookRefused("too_many")
    return WebhookEndpoint.objects.create(
        user=user,
        url=url,
        events=events,
        secret_encrypted=encrypt_secret(secret),
        balance_threshold=balance_threshold,
        is_panel_subscription=is_panel_subscription,
    )


def webhook_endpoint_subscribe(
    *, user: User, url: str, events: Iterable[str]
) -> tuple[WebhookEndpoint, str]:
    """For a downstream copy of this panel (the v2 `webhook_subscribe` action): the endpoint for
    `url`, made or kept, with a NEW secret each call. A subscriber whose answer was lost simply
    calls again; the secret it got last is the one that signs from then on."""
    url = url.strip()
    chosen = _clean_events(events)
    secret = secret_new()
    # Under the customer's lock from the lookup to the insert: two racing subscriptions of one
    # URL end with one endpoint (the later secret wins), never with a refusal.
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = WebhookEndpoint.objects.filter(user=user, url=url).first()
        if existing is not None:
            existing.events = chosen
            existing.secret_encrypted = encrypt_secret(secret)
            existing.is_panel_subscription = True
            existing.save(update_fields=["events", "secret_encrypted", "is_panel_subscription"])
            return existing, secret
        if (problem := url_problem(url)) is not None:
            raise WebhookRefused(problem)
        endpoint = _create_locked(
            user=user,
            url=url,
            events=chosen,
            secret=secret,
            balance_threshold=None,
            is_panel_subscription=True,
        )
    return endpoint, secret


def webhook_endpoint_update(
    *, user: User, endpoint_id: int, events: Iterable[str], balance_threshold: Decimal | None
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(user=user, pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookRefused("not_found")
    endpoint.events = _clean_events(events)
    if endpoint.balance_threshold != balance_threshold:
        endpoint.balance_threshold = balance_threshold
        endpoint.balance_low_at = None  # a new threshold starts armed
    endpoint.save(update_fields=["events", "balance_threshold", "balance_low_at"])
    return endpoint


def webhook_endpoint_delete(*, user: User, endpoint_id: int) -> bool:
    """Deleting an endpoint drops its pending deliveries with it (nobody to send them to)."""
    with transaction.atomic():
        deleted, _ = WebhookEndpoint.objects.filter(user=user, pk=endpoint_id).delete()
        if deleted:
            Notification.objects.filter(
                channel=Channel.WEBHOOK, ref=endpoint_id, status=Status.PENDING
            ).update(status=Status.SKIPPED, error="endpoint deleted")
    return bool(deleted)


def webhook_test_send(*, user: User, endpoint_id: int) -> Notification:
    """A `ping` event to one endpoint, queued like any other (its attempts appear in the log)."""
    endpoint = WebhookEndpoint.objects.filter(user=user, pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookRefused("not_found")
    key = f"ping:{uuid.uuid4().hex}"
    data: dict[str, object] = {"message": "This is a test event from the panel."}
    notifications_add(events=[_webhook_event(endpoint.pk, user.pk, "ping", key, data)])
    _kick_sender()
    return Notification.objects.get(key=f"webhook:{endpoint.pk}:{key}")


def webhook_resend(*, user: User, notification_id: int) -> bool:
    """The customer's resend of one delivery (its event id unchanged, so a receiver that
    already has it can tell). Only a delivery that is not in flight goes back to the queue."""
    moved = Notification.objects.filter(
        Q(status__in=[Status.SENT, Status.FAILED, Status.UNKNOWN, Status.SKIPPED]),
        pk=notification_id,
        channel=Channel.WEBHOOK,
        user=user,
        ref__in=WebhookEndpoint.objects.filter(user=user).values("pk"),
    ).update(status=Status.PENDING, attempts=0, next_attempt_at=None, lease_until=None, error="")
    if moved:
        _kick_sender()
    return bool(moved)
