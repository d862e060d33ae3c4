"""Hooks other apps call."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

from accounts.models import User
from accounts.ranks import RankMove
from accounts.services import pricing_tiers_assign
from core.money import money_shown, money_str
from notifications.models import Channel, Kind
from notifications.services.outbox import Event, notifications_add, telegram_enabled


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
    # The amount is in the customer's balance currency, a child panel's own on one: the
    # operators' line names it (the customer's email is written in his panel's anyway).
    currency = User.objects.filter(pk=user_id).values_list("currency", flat=True).first()
    ops_payload = {**payload, "currency": currency or settings.PANEL_CURRENCY}
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
                payload=ops_payload,
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
    *,
    deposit_id: int,
    reference: str,
    amount: Decimal,
    currency: str,
    gateway: str,
    gateway_name: "str | Promise" = "",
) -> None:
    """For the payments app: money arrived that matches no customer (it waits in the unmatched
    queue). Call in the transaction that parks the deposit; keyed on the deposit, so a replayed
    webhook or the same transfer from a second reporter alerts once. `reference` is the
    reporter's id of the transfer, `amount` what arrived, in `currency`; `gateway_name` the
    reporter's name as a translatable text (lazy), stored in English and written in the
    digest's language when it is sent."""
    values = {"id": deposit_id, "reference": reference[:120]}
    # In the panel's language: operators read it (PANEL_LANGUAGE).
    with translation.override(settings.LANGUAGE_CODE):
        values["gateway"] = str(gateway_name or gateway)
        values["amount"] = money_shown(amount, currency=currency)
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
            "gateway_name": _english(gateway_name),
        },
        ref=deposit_id,
    )


def _english(text: "str | Promise") -> str:
    """A translatable text as its source (English), for a reader's language to translate later."""
    with translation.override("en"):
        return str(text)


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
