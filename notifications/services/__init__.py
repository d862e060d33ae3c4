"""Every write to the outbox and to notification preferences.

Higher apps (orders, payments, support, providers) call these when something happened; each
event becomes one outbox row under a unique key, so a replayed poll, a webhook delivered twice
or a crashed worker writes it once. Rows are sent later by `notifications.delivery`, never in
the caller's transaction: a mail server or Telegram outage cannot block or fail an order.

One module per concern (this module grew past what one file reads well); everything is
importable from `notifications.services` as before.
"""

from notifications.services.events import (
    needs_review_cursor,
    needs_review_event,
    order_final_event,
    refill_final_event,
)
from notifications.services.hooks import (
    notify_deposit_credited,
    notify_deposit_unmatched,
    notify_provider_credentials_failed,
    notify_ticket_answered,
    notify_ticket_opened,
    rank_promoted_event,
    ranks_assign,
    staff_alert,
    staff_recipients,
)
from notifications.services.outbox import Event, notifications_add, telegram_enabled
from notifications.services.preferences import (
    notification_retry,
    preferences_for,
    preferences_update,
)
from notifications.services.telegram_bot import (
    BOT_COMMANDS,
    LINK_CODE_LIFETIME,
    telegram_link_claim,
    telegram_link_code_new,
    telegram_unlink,
    telegram_webhook_register,
)

__all__ = [
    "BOT_COMMANDS",
    "Event",
    "LINK_CODE_LIFETIME",
    "needs_review_cursor",
    "needs_review_event",
    "notification_retry",
    "notifications_add",
    "notify_deposit_credited",
    "notify_deposit_unmatched",
    "notify_provider_credentials_failed",
    "notify_ticket_answered",
    "notify_ticket_opened",
    "order_final_event",
    "preferences_for",
    "preferences_update",
    "rank_promoted_event",
    "ranks_assign",
    "refill_final_event",
    "staff_alert",
    "staff_recipients",
    "telegram_enabled",
    "telegram_link_claim",
    "telegram_link_code_new",
    "telegram_unlink",
    "telegram_webhook_register",
]
