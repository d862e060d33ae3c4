"""Preferences, and an admin's retry of one notification."""

from collections.abc import Iterable

from accounts.models import User
from notifications.models import EMAIL_KINDS, Notification, Preferences


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
