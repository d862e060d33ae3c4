"""The history of every order, product order and refill: one row per status or dispatch change."""

from django.db.models import Model

from accounts.models import User
from core import memos
from core.db.bulk import GIVEN, bulk_insert_values
from core.db.partitions import period_of_subject_columns_sql, period_of_subject_expression
from core.memos import Text
from orders.models import Order, OrderEvent, ProductOrder, Refill

Actor = OrderEvent.Actor


def event_for(
    target: Model | int,
    *,
    field: str,
    old: str = "",
    new: str = "",
    message: Text = "",
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
    # The month of its subject, read by the database from the months' registry as the row is
    # inserted, not by this process's clock; an unsaved target's by the statement that inserts
    # both (core.db.inserts.insert_with_event).
    period = (
        None if target_id is None else period_of_subject_expression(**{_LINKS[model]: target_id})
    )
    return OrderEvent(**values, actor_user=actor_user, period=period)


_LINKS: dict[type[Model], str] = {
    Order: "order_id",
    ProductOrder: "product_order_id",
    Refill: "refill_id",
}


def event_link(model: type[Model]) -> str:
    """The event column that names a row of `model` (order_id, product_order_id, refill_id)."""
    return _LINKS[model]


def event_values(
    target_id: int | None,
    *,
    target_model: type[Model],
    field: str,
    old: str = "",
    new: str = "",
    message: Text = "",
    actor: str,
) -> dict[str, object]:
    """The columns of an event row without a model instance: polling writes thousands in one
    statement, and building the instances cost more than inserting them (`events_insert`,
    which has the database add each row's month). `message` is a memo of orders.memos (stored
    as its code) or a person's words."""
    if message == "":
        # Most events (a poll's, one per changed row) carry no message: its columns written
        # out here cost a fraction of building them through `memos.columns` and merging them.
        return {
            _LINKS[target_model]: target_id,
            "field": field,
            "old_value": str(old)[:64],
            "new_value": str(new)[:64],
            "message": "",
            "message_code": "",
            "message_params": {},
            "actor": actor,
        }
    return {
        _LINKS[target_model]: target_id,
        "field": field,
        "old_value": str(old)[:64],
        "new_value": str(new)[:64],
        **memos.columns(message, prefix="message", max_length=500),
        "actor": actor,
    }


def events_insert(rows: list[dict[str, object]], *, same: dict[str, object]) -> None:
    """Insert the events `rows` (`event_values`) in one statement, `same` shared by all. Each
    row's month is its subject's, read by the database from the months' registry, once per
    subject table for the whole statement (core.db.partitions.period_of_subject_columns_sql)."""
    if not rows:
        return
    links = [link for link in _LINKS.values() if link in same or any(link in row for row in rows)]
    period = period_of_subject_columns_sql(links, row=GIVEN)
    bulk_insert_values(OrderEvent, rows, same=same, computed={"period": period})


def event_record(target: Model, **kwargs: object) -> OrderEvent:
    event = event_for(target, **kwargs)  # type: ignore[arg-type]
    event.save()
    return event
