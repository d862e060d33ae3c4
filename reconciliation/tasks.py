"""Thin Celery wrappers over the reconciliation services. Both are idempotent (a snapshot is
taken once per provider and day, a day re-reconciled gives the same flags), so they may run
late or twice."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def balance_snapshots_task() -> None:
    from django.utils import timezone

    from reconciliation.services import balance_snapshots_take

    logger.info("balance snapshots: %s", balance_snapshots_take(day=timezone.localdate()))


@shared_task(ignore_result=True, acks_late=True)
def reconciliation_due_task() -> None:
    from reconciliation.services import reconciliation_due

    for provider_day in reconciliation_due():
        logger.info("reconciled %s", provider_day)
