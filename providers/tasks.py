"""Thin Celery wrappers over the catalog and provider services. Both are idempotent reads of
upstream followed by writes, so they may run late or twice."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def catalog_sync_task(provider_id: int) -> None:
    from providers.errors import ProviderError
    from providers.models import Provider
    from providers.services import catalog_sync, provider_record_error

    provider = Provider.objects.filter(pk=provider_id, is_enabled=True).first()
    if provider is None:
        return
    try:
        summary = catalog_sync(provider=provider)
    except ProviderError as exc:
        provider_record_error(provider=provider, message=f"sync failed: {exc.message}")
        logger.warning("catalog sync of %s failed: %s", provider.name, exc.message)
    else:
        logger.info("catalog sync: %s", summary)


@shared_task(ignore_result=True)
def catalog_sync_all_task() -> None:
    from providers.models import Provider

    for provider_id in Provider.objects.filter(is_enabled=True).values_list("pk", flat=True):
        catalog_sync_task.delay(provider_id)


@shared_task(ignore_result=True, acks_late=True)
def provider_refresh_balances_task() -> None:
    from providers.alerts import provider_balance_alerts
    from providers.services import provider_refresh_balances

    logger.info("provider balances: %s", provider_refresh_balances())
    if alerted := provider_balance_alerts():
        logger.warning("low balance alert sent for %s", ", ".join(alerted))


@shared_task(ignore_result=True)
def providers_webhooks_subscribe_task() -> int:
    from providers.services import providers_webhooks_subscribe

    return providers_webhooks_subscribe()
