"""Alerts to the panel's staff, and the provider balance alert.

`staff_alert` is the one function every alert goes through. It sends email to active staff
now; when the notifications app (outbox + Telegram) is merged, only its body changes to write
an outbox row, and every caller keeps working. It sits in `providers`, which may import
`notifications` (DESIGN.md import order); the panel's daily report calls it from above.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.money import money_str
from providers.models import Provider

logger = logging.getLogger(__name__)


def staff_alert(*, subject: str, body: str) -> int:
    """Tell the staff. Returns how many messages went out; a mail failure is logged, not
    raised, so an alert never breaks the job that noticed the problem."""
    recipients = list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.warning("alert with no staff email to send it to: %s", subject)
        return 0
    try:
        return send_mail(f"[{settings.PANEL_NAME}] {subject}", body, None, recipients)
    except (OSError, smtplib.SMTPException):
        logger.exception("could not email the alert %r", subject)
        return 0


def provider_balance_alerts() -> list[str]:
    """Alert once when a provider's balance falls below its threshold; again only after it
    recovered (the mark is cleared) and fell again. Returns the names alerted."""
    alerted = []
    now = timezone.now()
    for provider in Provider.objects.filter(is_enabled=True, balance__isnull=False):
        if provider.is_low_balance:
            # The conditional update is the claim: two beat runs never alert twice.
            if Provider.objects.filter(pk=provider.pk, balance_alerted_at__isnull=True).update(
                balance_alerted_at=now
            ):
                _send_low_balance(provider)
                alerted.append(provider.name)
        elif provider.balance_alerted_at is not None:
            Provider.objects.filter(pk=provider.pk, balance__gte=F("low_balance_threshold")).update(
                balance_alerted_at=None
            )
    return alerted


def _send_low_balance(provider: Provider) -> None:
    balance = f"{money_str(provider.balance)} {provider.balance_currency or provider.currency}"
    staff_alert(
        subject=f"{provider.name}: balance low ({balance})",
        body=(
            f"The balance at {provider.name} is {balance}, below its threshold of "
            f"{money_str(provider.low_balance_threshold)}. Orders to it will start failing "
            "with 'not enough funds' once it runs out: top it up.\n"
            "You will not be told again until the balance has recovered and fallen again."
        ),
    )
