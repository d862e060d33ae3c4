"""Thin Celery wrappers: each takes primary keys, imports its service inside, and calls it.

Forwarding tasks are NOT acks_late: a redelivered forward after a worker crash could buy the
service twice; the sweeper flags rows stuck in `sending` instead. Polling is idempotent.
"""

import logging

from celery import shared_task
from django.conf import settings

from core.db.locks import held_lock
from core.tenancy import panel_scope

logger = logging.getLogger(__name__)


def _panel_of(model_name: str, pk: int) -> int | None:
    """The child panel of the row's account (None: the parent's). A task runs as that panel
    (core.tenancy), as the request that wrote the row did: whatever it reads of "this panel's"
    (the catalog on sale, accounts by name) is the row's panel's, never the parent's."""
    from django.apps import apps

    model = apps.get_model("orders", model_name)
    return model.objects.filter(pk=pk).values_list("user__child_panel_id", flat=True).first()


@shared_task(ignore_result=True)
def order_forward_task(order_id: int) -> str:
    from orders.services import order_forward

    with panel_scope(_panel_of("Order", order_id)):
        return order_forward(order_id=order_id)


@shared_task(ignore_result=True)
def product_order_forward_task(product_order_id: int) -> str:
    from orders.services import product_order_forward

    with panel_scope(_panel_of("ProductOrder", product_order_id)):
        return product_order_forward(product_order_id=product_order_id)


@shared_task(ignore_result=True)
def refill_forward_task(refill_id: int) -> str:
    from orders.services import refill_forward

    with panel_scope(_panel_of("Refill", refill_id)):
        return refill_forward(refill_id=refill_id)


@shared_task(ignore_result=True)
def cancel_forward_task(cancel_request_id: int) -> str:
    from orders.services import cancel_forward

    with panel_scope(_panel_of("CancelRequest", cancel_request_id)):
        return cancel_forward(cancel_request_id=cancel_request_id)


@shared_task(ignore_result=True)
def forwards_queue_task() -> dict[str, int]:
    from orders.services import forwards_queue

    return forwards_queue()


@shared_task(ignore_result=True)
def orders_dispatch_sweep_task() -> dict[str, int]:
    from orders.services import dispatch_sweep

    return dispatch_sweep()


@shared_task(ignore_result=True)
def refills_escalate_task() -> dict[str, int]:
    # Two ticks at once are safe: each refill's step is taken under its row lock.
    from orders.services import refills_escalate_due

    return refills_escalate_due()


@shared_task(ignore_result=True, acks_late=True)
def provider_poll_task(provider_id: int, share: int = 0, shares: int = 1) -> None:
    """One of `shares` pollers of one provider's round; any worker may take each, and they
    split the due rows between them by claiming chunks (see orders.services.polling)."""
    # One round per provider and share at a time: a slow round is not joined by the next beat's,
    # so the provider never has more than its setting's calls in flight. The lock dies with its
    # holder, so a worker killed mid-round does not stop polling (core.db.locks).
    # Leases the lock's previous holder left (it was killed mid-round) are given back before
    # the round, and this round's own after it, so no claimed row waits a lease out.
    name = f"poll:{provider_id}" if share == 0 else f"poll:{provider_id}:{share}"
    with held_lock(name) as held:
        if held:
            from orders.services.polling.leases import poll_leases_release

            poll_leases_release(holder=name)
            try:
                _provider_poll_round(provider_id, shares, name)
            finally:
                poll_leases_release(holder=name)


def _provider_poll_round(provider_id: int, shares: int, holder: str) -> None:
    from orders.services import provider_poll
    from providers.models import Provider

    provider = Provider.objects.filter(
        pk=provider_id, is_enabled=True, credentials_failed_at__isnull=True
    ).first()
    if provider is None:
        return
    # A child panel's provider polls that panel's orders only (its own customers').
    with panel_scope(provider.child_panel_id):
        results = provider_poll(provider=provider, shares=shares, holder=holder)
    busy = {name: counts for name, counts in results.items() if counts.polled}
    if busy:
        logger.info(
            "poll %s: %s",
            provider.name,
            "; ".join(f"{name} {counts}" for name, counts in busy.items()),
        )


@shared_task(ignore_result=True)
def orders_poll_all_task() -> None:
    from orders.enqueue import provider_queue
    from providers.models import Provider

    shares = max(settings.PANEL_POLL_TASKS_PER_PROVIDER, 1)
    for provider_id in Provider.objects.filter(
        is_enabled=True, credentials_failed_at__isnull=True
    ).values_list("pk", flat=True):
        # Each provider's rounds on its own queue: one whose calls hang holds up only its own.
        queue = provider_queue("poll", provider_id)
        for share in range(shares):
            provider_poll_task.apply_async((provider_id, share, shares), queue=queue)


@shared_task(ignore_result=True)
def needs_review_alerts_task() -> None:
    from orders.alerts import needs_review_alerts_collect

    needs_review_alerts_collect()


@shared_task(ignore_result=True, acks_late=True)
def service_delivery_times_task(full: bool = False) -> None:
    """Recomputes the services with orders completed in the last three intervals (a missed
    run or two loses nothing); `full` recomputes every service."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from orders.delivery_times import service_delivery_times_refresh

    since = None
    if not full:
        since = timezone.now() - timedelta(minutes=3 * settings.PANEL_DELIVERY_TIMES_MINUTES)
    changed = service_delivery_times_refresh(since=since)
    if changed:
        logger.info("delivery times: %d services changed", changed)


@shared_task(ignore_result=True, acks_late=True)
def service_scores_refresh_task() -> None:
    """Recomputes the whole scorecard: it replaces what it read, so a late or second run is
    harmless."""
    from orders.scorecard import service_scores_refresh

    logger.info("scorecard: %s", service_scores_refresh())


@shared_task(ignore_result=True, acks_late=True)
def provider_poll_hinted_task(provider_id: int, kind: str, upstream_ids: list[str]) -> None:
    """An upstream copy of this panel said these rows changed: re-read them now (idempotent,
    like every poll)."""
    from orders.services.polling.hints import provider_poll_hinted
    from providers.models import Provider

    panel = Provider.objects.filter(pk=provider_id).values_list("child_panel_id", flat=True).first()
    with panel_scope(panel):
        provider_poll_hinted(provider_id=provider_id, kind=kind, upstream_ids=upstream_ids)


@shared_task(ignore_result=True)
def partitions_prepare_task() -> int:
    from orders.partitions import partitions_prepare_all

    return len(partitions_prepare_all().created)
