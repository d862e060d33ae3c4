"""Thin Celery wrappers: each takes primary keys, imports its service inside, and calls it.

Forwarding tasks are NOT acks_late: a redelivered forward after a worker crash could buy the
service twice; the sweeper flags rows stuck in `sending` instead. Polling is idempotent.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def order_forward_task(order_id: int) -> str:
    from orders.services import order_forward

    return order_forward(order_id=order_id)


@shared_task(ignore_result=True)
def product_order_forward_task(product_order_id: int) -> str:
    from orders.services import product_order_forward

    return product_order_forward(product_order_id=product_order_id)


@shared_task(ignore_result=True)
def refill_forward_task(refill_id: int) -> str:
    from orders.services import refill_forward

    return refill_forward(refill_id=refill_id)


@shared_task(ignore_result=True)
def cancel_forward_task(cancel_request_id: int) -> str:
    from orders.services import cancel_forward

    return cancel_forward(cancel_request_id=cancel_request_id)


@shared_task(ignore_result=True)
def orders_dispatch_sweep_task() -> dict[str, int]:
    from orders.services import dispatch_sweep

    return dispatch_sweep()


@shared_task(ignore_result=True, acks_late=True)
def provider_poll_task(provider_id: int, share: int = 0, shares: int = 1) -> None:
    """One of `shares` pollers of one provider's round; any worker may take each, and they
    split the due rows between them by claiming chunks (see orders.services.polling)."""
    from orders.services import provider_poll
    from providers.models import Provider

    # One round per provider and share at a time: a slow round is not joined by the next
    # beat's, so the provider never has more than its setting's calls in flight.
    lock = f"poll-lock:{provider_id}:{share}"
    if not cache.add(lock, 1, timeout=300):
        return
    try:
        provider = Provider.objects.filter(
            pk=provider_id, is_enabled=True, credentials_failed_at__isnull=True
        ).first()
        if provider is not None:
            results = provider_poll(provider=provider, shares=shares)
            busy = {name: counts for name, counts in results.items() if counts.polled}
            if busy:
                logger.info(
                    "poll %s: %s",
                    provider.name,
                    "; ".join(f"{name} {counts}" for name, counts in busy.items()),
                )
    finally:
        cache.delete(lock)


@shared_task(ignore_result=True)
def orders_poll_all_task() -> None:
    from providers.models import Provider

    shares = max(settings.PANEL_POLL_TASKS_PER_PROVIDER, 1)
    for provider_id in Provider.objects.filter(
        is_enabled=True, credentials_failed_at__isnull=True
    ).values_list("pk", flat=True):
        for share in range(shares):
            provider_poll_task.delay(provider_id, share, shares)
