"""Operator alerts about rows handed to a person (dispatch state `needs_review`).

Every way into needs review (an unknown outcome at forwarding, a lost worker found by the
sweeper, a provider that keeps answering an error, a partial without figures) writes an
OrderEvent. Rather than hook each of those paths, a beat job turns new events of that kind
into outbox rows keyed by the event's id: each is alerted once, whatever path wrote it.
"""

from collections.abc import Mapping
from typing import Any

from notifications.services import needs_review_cursor, needs_review_event, notifications_add
from orders.models import DispatchState, OrderEvent

# History rows re-read behind the newest one already alerted: an event whose transaction
# committed after later ids were alerted is still found (its key makes a re-read harmless).
SCAN_MARGIN = 5000
SCAN_LIMIT = 5000


def _target(event: Mapping[str, Any]) -> tuple[str, int]:
    if event["refill_id"]:
        return "refill", event["refill_id"]
    if event["product_order_id"]:
        return "product order", event["product_order_id"]
    return "order", event["order_id"]


def needs_review_alerts_collect() -> int:
    """Write an outbox row for each needs-review event not yet alerted. Returns how many events
    were read (already alerted ones included)."""
    cursor = needs_review_cursor()
    if cursor is None:
        # The first run alerts on recent events only, not on the whole history.
        cursor = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    events = list(
        OrderEvent.objects.filter(
            pk__gt=max(cursor - SCAN_MARGIN, 0),
            field="dispatch",
            new_value=DispatchState.NEEDS_REVIEW,
        )
        .order_by("id")
        .values(
            "id",
            "order_id",
            "product_order_id",
            "refill_id",
            "message",
            "message_code",
            "message_params",
        )[:SCAN_LIMIT]
    )
    notifications_add(
        events=[
            needs_review_event(
                event_id=event["id"],
                target=_target(event)[0],
                target_id=_target(event)[1],
                message=event["message"],
                message_code=event["message_code"],
                message_params=event["message_params"],
            )
            for event in events
        ]
    )
    return len(events)
