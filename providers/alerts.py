"""The provider balance alert: the one place that decides when a low balance is worth telling
the operators about.

The rule: alert once when a provider's balance is below its threshold, and again only after it
recovered (the mark is cleared) and fell again. It runs after every stored balance
(services.provider._store_balance) and from the beat sweep (`provider_balance_alerts`, which
also catches a threshold an admin raised). The alert itself goes through the notifications
outbox (`staff_alert`: staff email and Telegram), keyed by the crossing, so it is written once
and sent by the outbox sender.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.memos import money_param
from core.money import money_shown
from notifications.models import Kind
from notifications.services import staff_alert
from providers.models import Provider


def provider_balance_alert_check(*, provider: Provider) -> bool:
    """Apply the crossing rule to `provider` as last stored; True when it alerted now."""
    if not provider.is_low_balance:
        # Recovered: clear the mark, so the next fall alerts again.
        Provider.objects.filter(
            pk=provider.pk,
            balance_alerted_at__isnull=False,
            balance__gte=F("low_balance_threshold"),
        ).update(balance_alerted_at=None)
        return False
    assert provider.balance is not None  # is_low_balance says so; for the type checker
    now = timezone.now()
    with transaction.atomic():
        # The conditional update is the claim: two checks at once never alert twice.
        if not Provider.objects.filter(pk=provider.pk, balance_alerted_at__isnull=True).update(
            balance_alerted_at=now
        ):
            return False
        provider.balance_alerted_at = now
        _alert_low_balance(provider, balance=provider.balance, alerted_at=now)
    return True


def provider_balance_alerts() -> list[str]:
    """The beat sweep over enabled providers. Returns the names alerted."""
    return [
        provider.name
        for provider in Provider.objects.filter(is_enabled=True, balance__isnull=False)
        if provider_balance_alert_check(provider=provider)
    ]


def _alert_low_balance(provider: Provider, *, balance: Decimal, alerted_at: datetime) -> None:
    # The threshold is compared with the balance, so it is in the balance's currency.
    currency = provider.balance_currency or provider.currency
    figures: dict[str, object] = {
        "name": provider.name,
        "balance": money_param(balance, currency=currency),
        "threshold": money_param(provider.low_balance_threshold, currency=currency),
    }
    # In the panel's language: operators read it (PANEL_LANGUAGE).
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "name": provider.name,
            "balance": money_shown(balance, currency=currency),
            "threshold": money_shown(provider.low_balance_threshold, currency=currency),
        }
        subject = gettext("%(name)s: balance low (%(balance)s)") % values
        body = (
            gettext(
                "The balance at %(name)s is %(balance)s, below its threshold of %(threshold)s. "
                "Orders to it will start failing with 'not enough funds' once it runs out: top "
                "it up.\nYou will not be told again until the balance has recovered and fallen "
                "again."
            )
            % values
        )
    staff_alert(
        key=f"provider-low-balance:{provider.pk}:{alerted_at.isoformat()}",
        kind=Kind.OPS_LOW_BALANCE,
        subject=subject,
        body=body,
        telegram=figures,
        ref=provider.pk,
    )
