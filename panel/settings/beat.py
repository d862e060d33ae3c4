"""The beat schedule: every periodic task, in one place."""

from datetime import timedelta

from celery.schedules import crontab

from panel.settings.product import (
    PANEL_AFFILIATE_SETTLE_MINUTES,
    PANEL_CHILD_PANEL_BILLING_MINUTES,
    PANEL_CHILD_PANEL_DNS_MINUTES,
    PANEL_DASHBOARD_ROLLUP_SECONDS,
    PANEL_DELIVERY_TIMES_MINUTES,
    PANEL_NOTIFICATIONS_SECONDS,
    PANEL_PRICING_TIERS_MINUTES,
    PANEL_SCORECARD_MINUTES,
    PANEL_WEBHOOKS_SECONDS,
)
from panel.settings.workers import (
    PANEL_BALANCE_REFRESH_MINUTES,
    PANEL_CATALOG_SYNC_MINUTES,
    PANEL_DISPATCH_SWEEP_SECONDS,
    PANEL_FORWARD_SWEEP_SECONDS,
    PANEL_POLL_SECONDS,
    PANEL_WORKER_HEARTBEAT_SECONDS,
)

CELERY_BEAT_SCHEDULE = {
    "orders-poll": {
        "task": "orders.tasks.orders_poll_all_task",
        "schedule": timedelta(seconds=PANEL_POLL_SECONDS),
    },
    "orders-forward": {
        "task": "orders.tasks.forwards_queue_task",
        "schedule": timedelta(seconds=PANEL_FORWARD_SWEEP_SECONDS),
        # A tick that waited behind a backlog is dropped: the next one does the same work.
        "options": {"expires": max(5 * PANEL_FORWARD_SWEEP_SECONDS, 5)},
    },
    # The coming months' partitions of orders, events and the ledger (orders.partitions);
    # hourly, so the order id sequence moves to a new month's range within its first hour.
    "partitions-prepare": {
        "task": "orders.tasks.partitions_prepare_task",
        "schedule": timedelta(hours=1),
    },
    "orders-dispatch-sweep": {
        "task": "orders.tasks.orders_dispatch_sweep_task",
        "schedule": timedelta(seconds=PANEL_DISPATCH_SWEEP_SECONDS),
    },
    # Refills past their deadline or rejected upstream take their service's next step
    # (docs/lifecycle.md, "Refills"); replacement orders that finished end their refill.
    "refills-escalate": {
        "task": "orders.tasks.refills_escalate_task",
        "schedule": timedelta(minutes=1),
    },
    "catalog-sync": {
        "task": "providers.tasks.catalog_sync_all_task",
        "schedule": timedelta(minutes=PANEL_CATALOG_SYNC_MINUTES),
    },
    "worker-heartbeat": {
        "task": "panel.tasks.worker_heartbeat_task",
        "schedule": timedelta(seconds=PANEL_WORKER_HEARTBEAT_SECONDS),
    },
    "provider-balances": {
        "task": "providers.tasks.provider_refresh_balances_task",
        "schedule": timedelta(minutes=PANEL_BALANCE_REFRESH_MINUTES),
    },
    # Used one-time form tokens are kept two days (accounts.form_tokens), then purged.
    "form-submissions-purge": {
        "task": "accounts.tasks.form_submissions_purge_task",
        "schedule": timedelta(hours=6),
    },
    "notifications-deliver": {
        "task": "notifications.tasks.notifications_deliver_task",
        "schedule": timedelta(seconds=PANEL_NOTIFICATIONS_SECONDS),
    },
    "webhooks-deliver": {
        "task": "notifications.tasks.webhooks_deliver_task",
        "schedule": timedelta(seconds=PANEL_WEBHOOKS_SECONDS),
        "options": {"expires": max(5 * PANEL_WEBHOOKS_SECONDS, 5)},
    },
    "webhooks-balance-watch": {
        "task": "notifications.tasks.webhooks_balance_watch_task",
        "schedule": timedelta(seconds=PANEL_WEBHOOKS_SECONDS),
        "options": {"expires": max(5 * PANEL_WEBHOOKS_SECONDS, 5)},
    },
    # Upstream copies of this panel push statuses once subscribed (providers.services.webhooks).
    "providers-webhooks-subscribe": {
        "task": "providers.tasks.providers_webhooks_subscribe_task",
        "schedule": timedelta(hours=1),
    },
    "orders-needs-review-alerts": {
        "task": "orders.tasks.needs_review_alerts_task",
        "schedule": timedelta(seconds=PANEL_NOTIFICATIONS_SECONDS),
    },
    "services-delivery-times": {
        "task": "orders.tasks.service_delivery_times_task",
        "schedule": timedelta(minutes=PANEL_DELIVERY_TIMES_MINUTES),
    },
    "services-delivery-times-full": {
        "task": "orders.tasks.service_delivery_times_task",
        "schedule": timedelta(days=1),
        "kwargs": {"full": True},
    },
    "services-scorecard": {
        "task": "orders.tasks.service_scores_refresh_task",
        "schedule": timedelta(minutes=PANEL_SCORECARD_MINUTES),
    },
    "child-panels-billing": {
        "task": "panel.tasks.child_panels_bill_task",
        "schedule": timedelta(minutes=PANEL_CHILD_PANEL_BILLING_MINUTES),
    },
    "child-panels-dns": {
        "task": "panel.tasks.child_panels_check_dns_task",
        "schedule": timedelta(minutes=PANEL_CHILD_PANEL_DNS_MINUTES),
    },
    "dashboard-rollup": {
        "task": "panel.tasks.dashboard_rollup_task",
        "schedule": timedelta(seconds=PANEL_DASHBOARD_ROLLUP_SECONDS),
    },
    # Midnight in TIME_ZONE (CELERY_TIMEZONE follows it): the report of the day that ended.
    "daily-report": {
        "task": "panel.tasks.daily_report_task",
        "schedule": crontab(minute=0, hour=0),
    },
    "pricing-tiers": {
        "task": "panel.tasks.pricing_tiers_assign_task",
        "schedule": timedelta(minutes=PANEL_PRICING_TIERS_MINUTES),
    },
    # Telegram updates a worker never took (a lost task), and forgetting old ones.
    "bot-updates-sweep": {
        "task": "bot.tasks.bot_updates_sweep_task",
        "schedule": timedelta(minutes=1),
    },
    "signups-expire": {
        "task": "accounts.tasks.signups_expire_task",
        "schedule": timedelta(hours=1),
    },
    # Idempotency records of the operator API live a day (docs/admin-api.md).
    "operator-api-idempotency-purge": {
        "task": "operatorapi.tasks.idempotency_records_purge_task",
        "schedule": timedelta(hours=1),
    },
    # Midnight in TIME_ZONE: every provider's balance at the edge of the day
    # (docs/reconciliation.md); the quarter-hourly run takes a snapshot the midnight one missed
    # and reconciles each day once its refunds had time to be seen.
    "reconciliation-snapshots": {
        "task": "reconciliation.tasks.balance_snapshots_task",
        "schedule": crontab(minute=0, hour=0),
    },
    "reconciliation": {
        "task": "reconciliation.tasks.reconciliation_due_task",
        "schedule": timedelta(minutes=15),
    },
    # Accrues, reverses and settles referral commissions (docs/affiliates.md).
    "affiliate-settle": {
        "task": "affiliates.tasks.affiliate_settle_task",
        "schedule": timedelta(minutes=PANEL_AFFILIATE_SETTLE_MINUTES),
    },
}
