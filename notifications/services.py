"""Every write to the outbox and to notification preferences.

Higher apps (orders, payments, support, providers) call these when something happened; each
event becomes one outbox row under a unique key, so a replayed poll, a webhook delivered twice
or a crashed worker writes it once. Rows are sent later by `notifications.delivery`, never in
the caller's transaction: a mail server or Telegram outage cannot block or fail an order.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.db.bulk import bulk_insert_values
from core.money import ZERO, money_str
from notifications.models import EMAIL_KINDS, Channel, Kind, Notification, Preferences, Status


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


# --- Events: what each one says and under which key ------------------------------------------


def order_final_event(*, order_id: int, user_id: int, status: str, refund: Decimal) -> Event:
    return Event(
        key=f"order-final:{order_id}",
        kind=Kind.ORDER_FINAL,
        channel=Channel.EMAIL,
        user_id=user_id,
        payload={"order_id": order_id, "status": status, "refund": money_str(refund)},
        ref=order_id,
    )


def refill_final_event(
    *, refill_id: int, order_id: int, user_id: int, status: str, refund: Decimal = ZERO
) -> Event:
    """A refill ended: Completed, or Rejected with what was refunded for it (docs/lifecycle.md,
    "Refills")."""
    return Event(
        key=f"refill-final:{refill_id}",
        kind=Kind.REFILL_FINAL,
        channel=Channel.EMAIL,
        user_id=user_id,
        payload={
            "refill_id": refill_id,
            "order_id": order_id,
            "status": status,
            "refund": money_str(refund),
        },
        ref=refill_id,
    )


def needs_review_event(*, event_id: int, target: str, target_id: int, message: str) -> Event:
    """An order, refill or product order handed to a person; `event_id` is its history row."""
    return Event(
        key=f"needs-review:{event_id}",
        kind=Kind.OPS_NEEDS_REVIEW,
        channel=Channel.TELEGRAM,
        payload={"target": target, "id": target_id, "message": message[:200]},
        ref=event_id,
    )


def needs_review_cursor() -> int | None:
    """The newest history row already turned into an alert (None before the first)."""
    return (
        Notification.objects.filter(kind=Kind.OPS_NEEDS_REVIEW, ref__isnull=False)
        .order_by("-ref")
        .values_list("ref", flat=True)
        .first()
    )


# --- Hooks other apps call -------------------------------------------------------------------


def notify_ticket_opened(*, ticket_id: int, username: str, subject: str) -> None:
    notifications_add(
        events=[
            Event(
                key=f"ticket-opened:{ticket_id}",
                kind=Kind.OPS_NEW_TICKET,
                channel=Channel.TELEGRAM,
                payload={"id": ticket_id, "username": username, "subject": subject[:120]},
                ref=ticket_id,
            )
        ]
    )


def notify_ticket_answered(*, ticket_id: int, message_id: int, user_id: int, subject: str) -> None:
    notifications_add(
        events=[
            Event(
                key=f"ticket-answered:{message_id}",
                kind=Kind.TICKET_ANSWERED,
                channel=Channel.EMAIL,
                user_id=user_id,
                payload={"ticket_id": ticket_id, "subject": subject[:120]},
                ref=ticket_id,
            )
        ]
    )


def notify_deposit_credited(*, deposit_id: int, user_id: int, amount: Decimal) -> None:
    """For the payments app: call in the transaction that credits the deposit. Safe to call
    again for the same deposit (webhook replays): the keys make it once."""
    payload = {"deposit_id": deposit_id, "amount": money_str(amount), "user_id": user_id}
    notifications_add(
        events=[
            Event(
                key=f"deposit-credited:{deposit_id}",
                kind=Kind.DEPOSIT_CREDITED,
                channel=Channel.EMAIL,
                user_id=user_id,
                payload=payload,
                ref=deposit_id,
            ),
            Event(
                key=f"ops-deposit-credited:{deposit_id}",
                kind=Kind.OPS_DEPOSIT,
                channel=Channel.TELEGRAM,
                payload=payload,
                ref=deposit_id,
            ),
        ]
    )


def notify_deposit_unmatched(
    *, deposit_id: int, reference: str, amount: Decimal, currency: str, gateway: str
) -> None:
    """For the payments app: money arrived that matches no customer (it waits in the unmatched
    queue). Call in the transaction that parks the deposit; keyed on the deposit, so a replayed
    webhook or the same transfer from a second reporter alerts once. `reference` is the
    reporter's id of the transfer, `amount` what arrived, in `currency`."""
    amount_text = f"{money_str(amount)} {currency}"
    staff_alert(
        key=f"deposit-unmatched:{deposit_id}",
        kind=Kind.OPS_DEPOSIT_UNMATCHED,
        subject=f"Deposit #{deposit_id} matches no customer",
        body=(
            f"A transfer of {amount_text} ({gateway} {reference[:120]}) names no customer "
            f"in its memo. It waits in the admin's unmatched queue to be assigned or rejected."
        ),
        telegram={
            "deposit_id": deposit_id,
            "reference": reference[:120],
            "amount": money_str(amount),
            "currency": currency,
            "gateway": gateway,
        },
        ref=deposit_id,
    )


def staff_recipients() -> list[str]:
    return list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )


def staff_alert(
    *,
    key: str,
    kind: str,
    subject: str,
    body: str,
    telegram: dict[str, object] | None = None,
    ref: int | None = None,
) -> bool:
    """Every operator alert: one staff email row and, with `telegram` (the digest's payload for
    `kind`), one Telegram row, each written once per `key` (the event) and sent later by the
    outbox sender. Returns whether anyone will get it (a staff address, or Telegram)."""
    events = [
        Event(
            key=f"staff-email:{key}",
            kind=kind,
            channel=Channel.STAFF_EMAIL,
            payload={"subject": subject[:200], "body": body},
            ref=ref,
        )
    ]
    if telegram is not None:
        events.append(
            Event(key=key, kind=kind, channel=Channel.TELEGRAM, payload=telegram, ref=ref)
        )
    notifications_add(events=events)
    return bool(staff_recipients()) or (telegram is not None and telegram_enabled())


def notify_provider_credentials_failed(
    *, provider_id: int, name: str, message: str, failed_at: datetime
) -> None:
    notifications_add(
        events=[
            Event(
                key=f"provider-credentials:{provider_id}:{failed_at.isoformat()}",
                kind=Kind.OPS_CREDENTIALS,
                channel=Channel.TELEGRAM,
                payload={"name": name, "message": message[:200]},
                ref=provider_id,
            )
        ]
    )


# --- Preferences -----------------------------------------------------------------------------


def preferences_for(*, user: User) -> Preferences:
    """The user's preferences, unsaved defaults (all on) when they never changed them."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def preferences_update(*, user: User, email_kinds: Iterable[str]) -> Preferences:
    """Turn on exactly the email kinds given, the others off."""
    wanted = set(email_kinds)
    values = {f"email_{kind}": kind in wanted for kind in EMAIL_KINDS}
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults=values)
    return preferences


def notification_retry(*, notification_id: int) -> bool:
    """An admin's decision that a row whose outcome is unknown (or that failed) did not reach
    its recipient: send it again. True when the row was put back in the queue."""
    return bool(
        Notification.objects.filter(pk=notification_id, status__in=["unknown", "failed"]).update(
            status="pending", next_attempt_at=None, lease_until=None, error=""
        )
    )
