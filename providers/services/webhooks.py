"""Subscribing to the status webhooks of providers that are copies of this panel.

A provider says it is one by answering the `features` action with `webhooks` in its list
(docs/protocol.md); others refuse the action, and stay polled as before. The subscription
registers this panel's callback URL (`PANEL_PUBLIC_URL` + the provider's path) with the
provider's `webhook_subscribe` action under the panel's own API key there, and keeps the secret
it answers (encrypted) to check the signature of what arrives. Polling goes on either way: a
webhook only makes the orders it names due at once (orders/services/polling/hints.py).
"""

import logging

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.secrets import encrypt_secret
from providers.errors import ProviderError
from providers.models import Provider
from providers.services.provider import provider_client

logger = logging.getLogger(__name__)

SUBSCRIBED_EVENTS = ("order.status_changed", "refill.finished")


def provider_webhook_url(*, provider: Provider) -> str:
    """Empty while PANEL_PUBLIC_URL is not set: nobody outside could reach us."""
    base = settings.PANEL_PUBLIC_URL.rstrip("/")
    if not base:
        return ""
    return base + reverse("provider_webhook", kwargs={"provider_id": provider.pk})


def provider_webhook_subscribe(*, provider: Provider) -> bool:
    """Subscribe (or renew) when the provider is a copy of this panel; True when subscribed.
    Safe to repeat: the provider keeps one webhook per URL and answers a fresh secret."""
    url = provider_webhook_url(provider=provider)
    if not url:
        return False
    client = provider_client(provider)
    try:
        if "webhooks" not in client.features():
            return False
        webhook_id, secret = client.webhook_subscribe(url=url, events=SUBSCRIBED_EVENTS)
    except ProviderError as exc:
        logger.info("provider %s: no webhooks (%s)", provider.name, exc.message)
        return False
    Provider.objects.filter(pk=provider.pk).update(
        webhook_secret_encrypted=encrypt_secret(secret),
        webhook_id=webhook_id,
        webhook_url=url,
        webhook_subscribed_at=timezone.now(),
    )
    return True


def providers_webhooks_subscribe() -> int:
    """Beat's hourly pass: providers not yet subscribed at the current URL are asked (again)."""
    subscribed = 0
    for provider in Provider.objects.filter(is_enabled=True, credentials_failed_at__isnull=True):
        if provider.webhook_url and provider.webhook_url == provider_webhook_url(provider=provider):
            continue
        subscribed += provider_webhook_subscribe(provider=provider)
    return subscribed
