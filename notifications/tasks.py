"""The sender, run by beat. Not acks_late: a redelivered run after a crash could not send
anything twice anyway (rows are claimed), but there is no reason to invite it."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def notifications_deliver_task() -> dict[str, int]:
    from notifications.delivery import notifications_deliver

    counts = notifications_deliver().as_dict()
    if any(counts.values()):
        logger.info("notifications: %s", counts)
    return counts


@shared_task(ignore_result=True)
def webhooks_deliver_task() -> dict[str, int]:
    """Queued after the commit that wrote webhook rows, and by beat for the retries."""
    from notifications.webhooks.sender import webhooks_deliver

    counts = webhooks_deliver().as_dict()
    if any(counts.values()):
        logger.info("webhooks: %s", counts)
    return counts


@shared_task(ignore_result=True)
def webhooks_balance_watch_task() -> int:
    from notifications.webhooks.services import webhooks_balance_watch

    return webhooks_balance_watch()
