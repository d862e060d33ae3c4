"""Every write to the outbox and to notification preferences.

Higher apps (orders, payments, support, providers) call these when something happened; each
event becomes one outbox row under a unique key, so a replayed poll, a webhook delivered twice
or a crashed worker writes it once. Rows are sent later by `notifications.delivery`, never in
the caller's transaction: a mail server or Telegram outage cannot block or fail an order.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from accounts.ranks import RankMove
from accounts.services import pricing_tiers_assign
from core.db.bulk import bulk_insert_values
from core.money import ZERO, money_str
from notifications.models import (
    EMAIL_KINDS,
    Channel,
    Kind,
    Notification,
    Preferences,
    Status,
    TelegramBot,
    TelegramLink,
)
from notifications.telegram import bot_set_commands, bot_set_webhook, bot_username


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


def needs_review_event(
    *,
    event_id: int,
    target: str,
    target_id: int,
    message: str,
    message_code: str = "",
    message_params: dict[str, object] | None = None,
) -> Event:
    """An order, refill or product order handed to a person; `event_id` is its history row,
    whose note travels as it is stored (a memo's code and parameters, or a person's words) and
    is written in the panel's language when the digest is sent."""
    return Event(
        key=f"needs-review:{event_id}",
        kind=Kind.OPS_NEEDS_REVIEW,
        channel=Channel.TELEGRAM,
        payload={
            "target": target,
            "id": target_id,
            "message": message[:200],
            "message_code": message_code,
            "message_params": message_params or {},
        },
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


def rank_promoted_event(move: RankMove) -> Event | None:
    """The customer's "you reached a rank" email, once per customer and rank (a second pass or
    a racing deposit finds the key written). The names go along in both languages, so the email
    reads right in the customer's even if the operator renames or deletes the rank meanwhile."""
    rank = move.rank
    if rank is None or not move.is_promotion:
        return None
    return Event(
        key=f"rank-promoted:{move.user_id}:{rank.pk}",
        kind=Kind.RANK_PROMOTED,
        channel=Channel.EMAIL,
        user_id=move.user_id,
        payload={
            "rank_id": rank.pk,
            "name": rank.name,
            "name_vi": rank.name_vi,
            "percent_off": money_str(rank.percent_off),
            "unlocks_child_panels": rank.unlocks_child_panels,
        },
        ref=rank.pk,
    )


def ranks_assign(*, user_ids: list[int] | None = None) -> list[RankMove]:
    """Move customers up to the ranks they reached (accounts.services.pricing_tiers_assign) and
    write each promotion's email in the same transaction: the email exists exactly when the
    move does. Payments call it in the transaction that credits a deposit; beat and the admin
    for everyone."""
    with transaction.atomic():
        moves = pricing_tiers_assign(user_ids=user_ids)
        notifications_add(events=[e for move in moves if (e := rank_promoted_event(move))])
    return moves


def notify_deposit_unmatched(
    *, deposit_id: int, reference: str, amount: Decimal, currency: str, gateway: str
) -> None:
    """For the payments app: money arrived that matches no customer (it waits in the unmatched
    queue). Call in the transaction that parks the deposit; keyed on the deposit, so a replayed
    webhook or the same transfer from a second reporter alerts once. `reference` is the
    reporter's id of the transfer, `amount` what arrived, in `currency`."""
    values = {
        "id": deposit_id,
        "amount": f"{money_str(amount)} {currency}",
        "gateway": gateway,
        "reference": reference[:120],
    }
    # In the panel's language: operators read it (PANEL_LANGUAGE).
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Deposit #%(id)s matches no customer") % values
        body = (
            gettext(
                "A transfer of %(amount)s (%(gateway)s %(reference)s) names no customer in its "
                "transfer content. It waits in the admin's unmatched queue to be assigned or "
                "rejected."
            )
            % values
        )
    staff_alert(
        key=f"deposit-unmatched:{deposit_id}",
        kind=Kind.OPS_DEPOSIT_UNMATCHED,
        subject=subject,
        body=body,
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


def preferences_update(
    *, user: User, email_kinds: Iterable[str], telegram_kinds: Iterable[str] = ()
) -> Preferences:
    """Turn on exactly the kinds given, the others off; `telegram_kinds` go to the customer's
    Telegram chat instead of email (while one is linked, else by email)."""
    wanted, by_telegram = set(email_kinds), set(telegram_kinds)
    values = {f"email_{kind}": kind in wanted for kind in EMAIL_KINDS}
    values |= {f"telegram_{kind}": kind in by_telegram for kind in EMAIL_KINDS}
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


# --- The customers' Telegram bot (docs/telegram-bot.md) ---------------------------------------

LINK_CODE_LIFETIME = timedelta(minutes=15)
# No 0/O or 1/I: a customer may type the code rather than open the link.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8


def _link_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def telegram_link_code_new(*, user: User) -> TelegramLink:
    """A fresh one-time code for the account page; a linked chat stays linked (the row only
    carries the new code), an older code stops working."""
    link, _created = TelegramLink.objects.update_or_create(
        user=user,
        defaults={
            "code": _link_code(),
            "code_expires_at": timezone.now() + LINK_CODE_LIFETIME,
        },
    )
    return link


def telegram_link_claim(*, code: str, chat_id: int, name: str = "") -> User | None:
    """Link `chat_id` to the account whose unexpired code this is, and use the code up. A chat
    linked to another account moves to this one (one account per chat). None: no such code."""
    code = code.strip().upper()
    if not code or len(code) > 32:
        return None
    with transaction.atomic():
        link = (
            TelegramLink.objects.select_for_update()
            .select_related("user")
            .filter(code=code, code_expires_at__gt=timezone.now(), user__is_active=True)
            .first()
        )
        if link is None:
            return None
        TelegramLink.objects.filter(chat_id=chat_id).exclude(pk=link.pk).delete()
        link.chat_id, link.telegram_name = chat_id, name[:128]
        link.code, link.code_expires_at, link.linked_at = "", None, timezone.now()
        link.save()
    return link.user


def telegram_unlink(*, user: User) -> bool:
    """One click on the account page (or /unlink in the chat): the chat gets nothing more."""
    deleted, _counts = TelegramLink.objects.filter(user=user).delete()
    return bool(deleted)


# The bot's commands (bot/handling.py answers them), as Telegram apps list them.
BOT_COMMANDS = (
    ("menu", gettext_noop("Menu")),
    ("balance", gettext_noop("Balance")),
    ("orders", gettext_noop("Recent orders")),
    ("new", gettext_noop("New order")),
    ("funds", gettext_noop("Add funds")),
    ("ticket", gettext_noop("Open a ticket")),
    ("cancel", gettext_noop("Stop the conversation")),
    ("unlink", gettext_noop("Unlink Telegram")),
)


def _register_commands(token: str) -> None:
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            commands = [(name, gettext(text)) for name, text in BOT_COMMANDS]
        # The default list (no language) is the panel's language, for every other app language.
        if language == settings.LANGUAGE_CODE:
            bot_set_commands(token=token, commands=commands)
        bot_set_commands(token=token, commands=commands, language=language)


def telegram_webhook_register(*, bot: TelegramBot, site_url: str = "") -> TelegramBot:
    """Ask Telegram (getMe, setWebhook) to send the bot's updates to this panel, under a secret
    of its own; calling it again (a new address, a new token) registers the new one."""
    if site_url:
        bot.site_url = site_url.rstrip("/")
    if not bot.webhook_secret:
        bot.webhook_secret = secrets.token_urlsafe(32)
    token = bot.token
    bot.username = bot_username(token=token) or bot.username
    url = bot.site_url.rstrip("/") + reverse("telegram_webhook", args=[bot.webhook_secret])
    bot_set_webhook(token=token, url=url, secret_token=bot.webhook_secret)
    _register_commands(token)
    bot.webhook_set_at = timezone.now()
    bot.save()
    return bot
