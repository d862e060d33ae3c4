"""The history of every order, product order and refill: one row per status or dispatch change."""

from django.db.models import Model

from accounts.models import User
from orders.models import Order, OrderEvent, ProductOrder, Refill

Actor = OrderEvent.Actor


def event_for(
    target: Model | int,
    *,
    field: str,
    old: str = "",
    new: str = "",
    message: str = "",
    actor: str,
    actor_user: User | None = None,
    target_model: type[Model] | None = None,
) -> OrderEvent:
    """An unsaved event about `target` (an instance, or an id with `target_model`)."""
    model = target_model or type(target)
    target_id = target if isinstance(target, int) else target.pk
    link = {Order: "order_id", ProductOrder: "product_order_id", Refill: "refill_id"}[model]
    return OrderEvent(
        **{link: target_id},
        field=field,
        old_value=str(old)[:64],
        new_value=str(new)[:64],
        message=message[:500],
        actor=actor,
        actor_user=actor_user,
    )


def event_record(target: Model, **kwargs: object) -> OrderEvent:
    event = event_for(target, **kwargs)  # type: ignore[arg-type]
    event.save()
    return event
