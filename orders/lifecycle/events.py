"""The history of every order, product order and refill: one row per status or dispatch change."""

from django.db.models import Model
from django.utils.translation import gettext_noop

from accounts.models import User
from orders.models import Order, OrderEvent, ProductOrder, Refill

Actor = OrderEvent.Actor

# Notes are stored in English (admins read them too); the ones customers see are marked for the
# catalog where they are written, and the order page translates them (panel_format.event_note).
REJECTED_NOTE_PREFIX = "Rejected by the provider: "
NOTE_PLACED = gettext_noop("Placed")
NOTE_REFILL_REQUESTED = gettext_noop("Refill requested")
NOTE_CANCELED_BEFORE_SENT = gettext_noop("Canceled before it was sent")
NOTE_CANCEL_REQUESTED = gettext_noop("Cancel requested from the provider")
NOTE_CANCEL_HELD = gettext_noop(
    "Cancel recorded: applied once the provider's answer to the add is known"
)


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
    if isinstance(target, int):
        if target_model is None:
            raise TypeError("an event about an id needs its target_model")
        model, target_id = target_model, target
    else:
        model, target_id = target_model or type(target), target.pk
    values = event_values(
        target_id, target_model=model, field=field, old=old, new=new, message=message, actor=actor
    )
    return OrderEvent(**values, actor_user=actor_user)


_LINKS: dict[type[Model], str] = {
    Order: "order_id",
    ProductOrder: "product_order_id",
    Refill: "refill_id",
}


def event_link(model: type[Model]) -> str:
    """The event column that names a row of `model` (order_id, product_order_id, refill_id)."""
    return _LINKS[model]


def event_values(
    target_id: int,
    *,
    target_model: type[Model],
    field: str,
    old: str = "",
    new: str = "",
    message: str = "",
    actor: str,
) -> dict[str, object]:
    """The columns of an event row without a model instance: polling writes thousands in one
    statement, and building the instances cost more than inserting them."""
    return {
        _LINKS[target_model]: target_id,
        "field": field,
        "old_value": str(old)[:64],
        "new_value": str(new)[:64],
        "message": message[:500],
        "actor": actor,
    }


def event_record(target: Model, **kwargs: object) -> OrderEvent:
    event = event_for(target, **kwargs)  # type: ignore[arg-type]
    event.save()
    return event
