"""Celery: the broker, queues per provider, and how often the periodic work runs."""

from decimal import Decimal

from kombu import Queue

from panel.settings.environment import env
from panel.settings.web import TIME_ZONE

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded setup's file broker, writing each message whole (panel/broker.py).
    CELERY_BROKER_TRANSPORT = "panel.broker:Transport"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues per provider (docs/scaling.md): a provider's forwards go to `forward.<n>` and its poll
# rounds to `poll.<n>`, n = provider id mod PANEL_PROVIDER_QUEUES, so ids that follow each other
# never share a queue until there are more providers than queues. A worker started without -Q
# consumes every queue in turn (a poll never waits behind a backlog of forwards, nor one
# provider's backlog behind another's); `-Q forward.3,poll.3` pins a worker to provider 3's (and
# 3 + PANEL_PROVIDER_QUEUES's …). Beat's own ticks go to `celery`, the round starter to `poll`.
PANEL_PROVIDER_QUEUES = max(env.int("PANEL_PROVIDER_QUEUES", default=16), 1)
# At most this many upstream calls of forwarding to one provider at once, across all workers:
# a provider that hangs holds no more worker processes than this, so workers with more
# processes always have one for the other providers' orders.
PANEL_PROVIDER_FORWARD_SLOTS = max(env.int("PANEL_PROVIDER_FORWARD_SLOTS", default=2), 1)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery"),
    Queue("poll"),
    *(Queue(f"{kind}.{n}") for n in range(PANEL_PROVIDER_QUEUES) for kind in ("forward", "poll")),
)
CELERY_TASK_ROUTES = {
    "orders.tasks.orders_poll_all_task": {"queue": "poll"},
    # Published with their provider's queue (orders.enqueue); this is for a bare .delay().
    "orders.tasks.provider_poll_task": {"queue": "poll"},
}
CELERY_TIMEZONE = TIME_ZONE

# How often beat starts a poll round, and how long an order waits between two polls: the
# interval doubles while an order does not move, up to the maximum.
PANEL_POLL_SECONDS = env.int("PANEL_POLL_SECONDS", default=15)
PANEL_POLL_INTERVAL_SECONDS = env.int("PANEL_POLL_INTERVAL_SECONDS", default=60)
PANEL_POLL_MAX_INTERVAL_SECONDS = env.int("PANEL_POLL_MAX_INTERVAL_SECONDS", default=1800)
PANEL_DISPATCH_SWEEP_SECONDS = env.int("PANEL_DISPATCH_SWEEP_SECONDS", default=30)
# An order a provider refused because the link has an open order there waits this long before
# the next try (sooner when the panel sees its own order on that link finish).
PANEL_LINK_BUSY_RETRY_SECONDS = env.int("PANEL_LINK_BUSY_RETRY_SECONDS", default=600)
# Placing an order publishes nothing; this often beat queues the forwards of new orders.
PANEL_FORWARD_SWEEP_SECONDS = env.float("PANEL_FORWARD_SWEEP_SECONDS", default=1.0)
PANEL_CATALOG_SYNC_MINUTES = env.int("PANEL_CATALOG_SYNC_MINUTES", default=60)
PANEL_BALANCE_REFRESH_MINUTES = env.int("PANEL_BALANCE_REFRESH_MINUTES", default=10)
# The margin guard (providers.services.catalog.guard, docs/operations.md "Held services"): a
# sync holds a service whose new cost leaves less than this margin over cost at the lowest
# price any customer pays, or whose cost rose by more than the hold percent; placing refuses
# an order charged below its cost plus the margin. Percents, decimals allowed.
PANEL_MIN_MARGIN_PERCENT = Decimal(env.str("PANEL_MIN_MARGIN_PERCENT", default="5"))
PANEL_PRICE_HOLD_PERCENT = Decimal(env.str("PANEL_PRICE_HOLD_PERCENT", default="30"))
# The provider reconciliation (docs/reconciliation.md): an order is flagged when what its
# provider charges differs from what the panel expects by more than this percent of its price;
# a day's balance when its unexplained drift exceeds this percent of the day's charges (beyond
# what the day's edges leave open). Percents, decimals allowed.
PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT = Decimal(
    env.str("PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT", default="1")
)
PANEL_RECONCILE_BALANCE_TOLERANCE_PERCENT = Decimal(
    env.str("PANEL_RECONCILE_BALANCE_TOLERANCE_PERCENT", default="0.5")
)

# Beat sends a heartbeat this often; `/health/worker/` fails when none was consumed for longer
# than the maximum age (a dead or wedged worker).
PANEL_WORKER_HEARTBEAT_SECONDS = env.int("PANEL_WORKER_HEARTBEAT_SECONDS", default=60)
PANEL_WORKER_HEARTBEAT_MAX_AGE = env.int("PANEL_WORKER_HEARTBEAT_MAX_AGE", default=300)
# How long `/health/` waits for the broker before calling it down.
PANEL_HEALTH_TIMEOUT = env.float("PANEL_HEALTH_TIMEOUT", default=3.0)
