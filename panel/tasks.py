"""Thin Celery wrappers: the worker heartbeat, the dashboard rollup, the daily report, tiers."""

import logging
import random

from celery import Task, shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat_task(self: Task) -> None:
    """Beat sends the heartbeat; whichever worker consumes it records the time (`/health/worker/`)."""
    from panel.health import heartbeat_record

    heartbeat_record(worker=str(self.request.hostname or ""))


# The first run reads every order (about a minute per million on the benchmark machine);
# later runs redo only the days that changed and take well under a second.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=900, time_limit=960)
def dashboard_rollup_task() -> None:
    # Idempotent: a run redoes whole days from the orders, so a late or double run is harmless.
    from panel.dashboard.rollup import dashboard_rollup

    logger.info("dashboard rollup: %s", dashboard_rollup())


@shared_task(
    ignore_result=True,
    acks_late=True,
    bind=True,
    max_retries=6,
)
def daily_report_task(self: Task) -> None:
    # Exactly once per day: DailyReport's unique day is the claim.
    from panel.dashboard.report import ReportNotSent, daily_report_send

    try:
        daily_report_send()
    except ReportNotSent as exc:
        # 5, 10, 20 … minutes with jitter: a staff address or Telegram set up later still gets it.
        delay = 300 * 2**self.request.retries + random.randint(0, 60)  # noqa: S311
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(ignore_result=True, acks_late=True)
def pricing_tiers_assign_task() -> None:
    from notifications.services import ranks_assign

    logger.info("ranks: %s customer(s) moved", len(ranks_assign()))


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def child_panels_check_dns_task() -> None:
    # Idempotent: it only opens panels whose domain already points here.
    from panel.child_panels.services import child_panels_check_dns

    if opened := child_panels_check_dns():
        logger.info("child panels opened: %s", ", ".join(opened))


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=600, time_limit=660)
def child_panels_bill_task() -> None:
    # Idempotent: a period is charged once (ChildPanelCharge is unique per panel and period).
    from panel.child_panels.billing import child_panels_bill

    if outcomes := child_panels_bill():
        logger.info("child panel fees: %s", outcomes)
