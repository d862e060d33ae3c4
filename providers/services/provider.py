"""Providers: registering and checking them, and recording their health."""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import InvalidRequest
from notifications.services import notify_provider_credentials_failed
from providers.alerts import provider_balance_alert_check
from providers.client import ProviderClient, UpstreamBalance
from providers.errors import ProviderAuthError, ProviderError
from providers.models import DEFAULT_MARKUP_PERCENT, Provider
from providers.services.metering import MeteredClient

logger = logging.getLogger(__name__)


def provider_client(provider: Provider) -> ProviderClient:
    """The provider's client; its `add` calls are timed for the dashboard (metering)."""
    return MeteredClient(
        provider_id=provider.pk,
        api_url=provider.api_url,
        api_key=provider.api_key,
        connect_timeout=settings.PANEL_PROVIDER_CONNECT_TIMEOUT,
        read_timeout=settings.PANEL_PROVIDER_READ_TIMEOUT,
    )


def _store_balance(provider: Provider, balance: UpstreamBalance) -> None:
    now = timezone.now()
    Provider.objects.filter(pk=provider.pk).update(
        balance=balance.balance,
        balance_currency=balance.currency,
        balance_checked_at=now,
        credentials_failed_at=None,
    )
    provider.balance, provider.balance_currency, provider.balance_checked_at = (
        balance.balance,
        balance.currency,
        now,
    )
    provider.credentials_failed_at = None
    # The low balance alert's crossing rule lives in providers.alerts, nowhere else.
    provider_balance_alert_check(provider=provider)


def provider_check(*, provider: Provider) -> UpstreamBalance:
    """Ask the provider for its balance; a good answer also clears a credentials failure.

    Raises the client's ProviderError (and records it on the provider) when the check fails.
    """
    try:
        balance = provider_client(provider).balance()
    except ProviderAuthError as exc:
        provider_mark_credentials_failed(provider=provider, message=exc.message)
        raise
    except ProviderError as exc:
        provider_record_error(provider=provider, message=exc.message)
        raise
    _store_balance(provider, balance)
    return balance


def provider_create(
    *,
    name: str,
    api_url: str,
    api_key: str,
    markup_percent: Decimal = DEFAULT_MARKUP_PERCENT,
    markup_fixed: Decimal = Decimal(0),
    exchange_rate: Decimal | None = None,
    new_items_on_sale: bool = True,
) -> Provider:
    """Register a provider after checking that it answers `balance` with this key.

    The provider's currency is taken from that answer; when it is the panel currency the
    exchange rate is 1, otherwise it must be given.
    """
    if Provider.objects.filter(name__iexact=name).exists():
        raise InvalidRequest(f"A provider named {name!r} already exists")
    provider = Provider(
        name=name,
        api_url=api_url,
        markup_percent=markup_percent,
        markup_fixed=markup_fixed,
        new_items_on_sale=new_items_on_sale,
    )
    provider.api_key = api_key
    try:
        provider.full_clean(exclude=["currency", "exchange_rate"])
    except ValidationError as exc:
        raise InvalidRequest(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
        ) from exc
    balance = provider_client(provider).balance()
    provider.currency = (balance.currency or settings.PANEL_CURRENCY).upper()[:3]
    if exchange_rate is None:
        if provider.currency != settings.PANEL_CURRENCY:
            raise InvalidRequest(
                f"The provider bills in {provider.currency}; give the exchange rate to {settings.PANEL_CURRENCY}"
            )
        exchange_rate = Decimal(1)
    if exchange_rate <= 0:
        raise InvalidRequest("The exchange rate must be positive")
    provider.exchange_rate = exchange_rate
    provider.balance, provider.balance_currency = balance.balance, balance.currency
    provider.balance_checked_at = timezone.now()
    provider.save()
    return provider


def provider_create_for_child_panel(
    *,
    child_panel_id: int,
    name: str,
    api_url: str,
    api_key: str,
    markup_percent: Decimal,
    exchange_rate: Decimal = Decimal(1),
) -> Provider:
    """A child panel's one provider: this panel itself, reached through its own /api/v2 with the
    child panel's owner's key (docs/child-panels.md). Bills in this panel's currency; worth
    `exchange_rate` of the child's currency per unit (1 when they are the same). Nothing is
    asked upstream now, the first catalog sync checks the key."""
    provider = Provider(
        name=name,
        api_url=api_url,
        child_panel_id=child_panel_id,
        currency=settings.PANEL_CURRENCY,
        exchange_rate=exchange_rate,
        markup_percent=markup_percent,
    )
    provider.api_key = api_key
    provider.full_clean(exclude=["api_key_encrypted"])
    provider.save()
    return provider


def provider_record_error(*, provider: Provider, message: str) -> None:
    Provider.objects.filter(pk=provider.pk).update(
        last_error=message[:500], last_error_at=timezone.now()
    )


def provider_pause_dispatch(*, provider: Provider, seconds: int, message: str) -> None:
    """Hold every order for this provider for a while (out of funds, throttled, busy)."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    Provider.objects.filter(pk=provider.pk).update(
        dispatch_paused_until=until, last_error=message[:500], last_error_at=now
    )
    provider.dispatch_paused_until = until
    logger.warning("provider %s paused until %s: %s", provider.name, until.isoformat(), message)


def provider_mark_credentials_failed(*, provider: Provider, message: str) -> None:
    """Stop using the provider until an admin fixes the key and a check passes."""
    now = timezone.now()
    # Only the first failure alerts: later ones while the key stays wrong just refresh the error.
    if Provider.objects.filter(pk=provider.pk, credentials_failed_at__isnull=True).update(
        credentials_failed_at=now, last_error=message[:500], last_error_at=now
    ):
        notify_provider_credentials_failed(
            provider_id=provider.pk, name=provider.name, message=message, failed_at=now
        )
    else:
        Provider.objects.filter(pk=provider.pk).update(last_error=message[:500], last_error_at=now)
    provider.credentials_failed_at = now
    logger.error("provider %s rejected the panel's credentials: %s", provider.name, message)


def provider_refresh_balances() -> dict[str, str]:
    """Check every enabled provider; returns name → balance or error, for logs and the admin."""
    results: dict[str, str] = {}
    for provider in Provider.objects.filter(is_enabled=True):
        try:
            balance = provider_check(provider=provider)
        except ProviderError as exc:
            results[provider.name] = f"error: {exc.message}"
        else:
            results[provider.name] = f"{balance.balance} {balance.currency}"
    return results
