"""What the API page's webhooks section shows (the section itself: templates/notifications/
_webhooks.html; its actions: panel/webhook_views.py)."""

from accounts.models import User
from notifications.forms import WebhookEndpointForm
from notifications.models import WebhookEvent
from notifications.webhooks.selectors import (
    EVENT_LABELS,
    webhook_deliveries_of,
    webhook_endpoints_of,
)
from notifications.webhooks.services import MAX_ENDPOINTS


def webhooks_context(*, user: User) -> dict[str, object]:
    endpoints = webhook_endpoints_of(user=user)
    return {
        "webhook_endpoints": [
            {
                "endpoint": endpoint,
                "event_labels": [
                    str(EVENT_LABELS[e]) for e in endpoint.events if e in EVENT_LABELS
                ],
            }
            for endpoint in endpoints
        ],
        "webhook_deliveries": webhook_deliveries_of(user=user),
        "webhook_form": WebhookEndpointForm(initial={"events": list(WebhookEvent.values)}),
        "webhook_event_choices": WebhookEvent.choices,
        "webhook_limit": MAX_ENDPOINTS,
        "webhook_can_add": len(endpoints) < MAX_ENDPOINTS,
    }
