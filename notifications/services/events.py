"""Events: what each one says and under which key."""

from decimal import Decimal

from core.money import ZERO, money_str
from notifications.models import Channel, Kind, Notification
from notifications.services.outbox import Event


def order_final_event(*, order_id: int, user_id: int, status: str, refund: Decimal) -> Event:
    return Event(
        key=f"order-final:{order_id}",
        kind=Kind.ORDER_FINAL,
        channel=Channel.EMAIL,
        user_id=user_id,
        payload={"order_id": order_id, "status": status, "refund": money_str(refund)},
        ref=order_id,
    )


def refill_final_event(
    *, refill_id: int, order_id: int, user_id: int, status: str, refund: Decimal = ZERO
) -> Event:
    """A refill ended: Completed, or Rejected with what was refunded for it (docs/lifecycle.md,
    "Refills")."""
    return Event(
        key=f"refill-final:{refill_id}",
        kind=Kind.REFILL_FINAL,
        channel=Channel.EMAIL,
        user_id=user_id,
        payload={
            "refill_id": refill_id,
            "order_id": order_id,
            "status": status,
            "refund": money_str(refund),
        },
        ref=refill_id,
    )


def needs_review_event(
    *,
    event_id: int,
    target: str,
    target_id: int,
    message: str,
    message_code: str = "",
    message_params: dict[str, object] | None = None,
) -> Event:
    """An order, refill or product order handed to a person; `event_id` is its history row,
    whose note travels as it is stored (a memo's code and parameters, or a person's words) and
    is written in the panel's language when the digest is sent."""
    return Event(
        key=f"needs-review:{event_id}",
        kind=Kind.OPS_NEEDS_REVIEW,
        channel=Channel.TELEGRAM,
        payload={
            "target": target,
            "id": target_id,
            "message": message[:200],
            "message_code": message_code,
            "message_params": message_params or {},
        },
        ref=event_id,
    )


def needs_review_cursor() -> int | None:
    """The newest history row already turned into an alert (None before the first)."""
    return (
        Notification.objects.filter(kind=Kind.OPS_NEEDS_REVIEW, ref__isnull=False)
        .order_by("-ref")
        .values_list("ref", flat=True)
        .first()
    )
