"""The only writes of `status` and `dispatch_state`. Each checks its move against `table.py`.

Moves are conditional updates (filter on the id and the expected old state; no row changed
means someone else got there first, and nothing happens); finishing locks the row, so a replay
or a racing poll finds it final and cannot refund twice.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q, Sum
from django.utils import timezone

from accounts.models import User
from accounts.services import balance_credit
from core import memos
from core.memos import Text
from core.money import ZERO
from orders.errors import InvalidTransition
from orders.lifecycle.events import event_for
from orders.lifecycle.refunds import (
    Delivery,
    Figures,
    figures_of_order,
    figures_of_product_order,
    refill_refund_due,
    refund_credit,
)
from orders.lifecycle.refunds import refund_due as _refund_due
from orders.lifecycle.table import (
    FINAL_BY_KIND,
    FINISH_FROM,
    REASON_FROM,
    RESOLUTIONS,
    Kind,
    Reason,
    moves_for,
)
from orders.memos import REVIEW_REASON
from orders.models import (
    CancelRequest,
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    Refill,
    RefillStatus,
)
from orders.notify import Finished, notify_finished_rows

Row = Order | ProductOrder | Refill | CancelRequest
RowModel = type[Order] | type[ProductOrder] | type[Refill] | type[CancelRequest]
MODELS: dict[Kind, RowModel] = {
    Kind.ORDER: Order,
    Kind.PRODUCT_ORDER: ProductOrder,
    Kind.REFILL: Refill,
    Kind.CANCEL: CancelRequest,
}
KINDS: dict[RowModel, Kind] = {model: kind for kind, model in MODELS.items()}


def kind_of(model: RowModel) -> Kind:
    return KINDS[model]


@dataclass(frozen=True)
class By:
    """Who makes a move: an OrderEvent actor and, for admins, the person."""

    name: str
    user: User | None = None


def history_of(kind: Kind, pk: int) -> tuple[int, type[Model]]:
    """Where a row's events go: a cancel request writes into its order's history."""
    if kind is Kind.CANCEL:
        return CancelRequest.objects.values_list("order_id", flat=True).get(pk=pk), Order
    return pk, MODELS[kind]


def dispatch_move(
    kind: Kind,
    pk: int,
    *,
    from_state: str,
    to_state: str,
    actor: By,
    message: Text = "",
    reason: str = "",
    only: Q | None = None,
    **values: Any,
) -> bool:
    """Move one row's dispatch state if it is still `from_state` (and matches `only`).

    Entering review needs a `reason`; leaving it clears the reason. Returns whether it moved.
    """
    if (from_state, to_state) not in moves_for(kind):
        raise InvalidTransition(f"{kind} cannot move from {from_state} to {to_state}")
    if (to_state == DispatchState.NEEDS_REVIEW) != bool(reason):
        raise ValueError("a row enters review with a reason, and only then")
    if reason and REASON_FROM[Reason(reason)] != from_state:
        raise ValueError(f"{reason} is not a reason to leave {from_state}")
    rows = MODELS[kind].objects.filter(pk=pk, dispatch_state=from_state)
    if only is not None:
        rows = rows.filter(only)
    moved = rows.update(
        dispatch_state=to_state, review_reason=reason, updated_at=timezone.now(), **values
    )
    if moved:
        if not message and reason:
            message = REVIEW_REASON(reason=reason)
        _dispatch_event(kind, pk, from_state, to_state, message, actor)
    return bool(moved)


def _dispatch_event(kind: Kind, pk: int, old: str, new: str, message: Text, actor: By) -> None:
    target, model = history_of(kind, pk)
    event_for(
        target,
        target_model=model,
        field="dispatch",
        old=old,
        new=new,
        message=message,
        actor=actor.name,
        actor_user=actor.user,
    ).save()


def figures_of(kind: Kind, row: Row) -> Figures:
    if kind is Kind.ORDER:
        assert isinstance(row, Order)
        values = {
            "charge": row.charge,
            "refunded": row.refunded,
            "upstream_rate": row.upstream_rate,
            "total_quantity": row.total_quantity,
            "details": row.details,
            "service__type": row.service.type,
        }
        return figures_of_order(values)
    assert isinstance(row, ProductOrder)
    return figures_of_product_order(
        {
            "charge": row.charge,
            "refunded": row.refunded,
            "upstream_rate": row.upstream_rate,
            "quantity": row.quantity,
        }
    )


@dataclass(frozen=True)
class Finish:
    """A final status and what comes with it."""

    status: str
    delivery: Delivery = Delivery()
    start_count: int | None = None
    result: str | None = None
    # The provider's note as sent, or the panel's own as a memo (orders.memos).
    note: Text | None = None


def _settle(kind: Kind, row: Row, finish: Finish) -> tuple[list[str], Decimal]:
    """Set the row's delivery fields; return the fields written and the refund owed."""
    fields: list[str] = []
    if kind is Kind.ORDER:
        assert isinstance(row, Order)
        remains = finish.delivery.remains
        if remains is None and finish.status == OrderStatus.CANCELED:
            remains = row.total_quantity
        if remains is not None:
            row.remains = remains
        if finish.start_count is not None:
            row.start_count = finish.start_count
        fields += ["remains", "start_count"]
    if kind is Kind.PRODUCT_ORDER:
        assert isinstance(row, ProductOrder)
        if finish.result is not None:
            row.result = finish.result
        if finish.note is not None:
            for name, value in memos.columns(finish.note, prefix="note", max_length=500).items():
                setattr(row, name, value)
        fields += ["result", "note", "note_code", "note_params"]
    if kind is Kind.REFILL:
        assert isinstance(row, Refill)
        if finish.status != RefillStatus.REJECTED:
            return fields, ZERO
        # A refill ends refilled or refunded: Rejected pays the missing share back, whoever
        # ends it (the escalation, an admin's resolution). `remains` is what is still missing.
        order = Order.objects.select_related("service").get(pk=row.order_id)
        paid_out = (
            Refill.objects.filter(order_id=row.order_id)
            .exclude(pk=row.pk)
            .aggregate(total=Sum("refunded"))["total"]
        )
        missing = finish.delivery.remains
        return fields, refill_refund_due(
            order=figures_of(Kind.ORDER, order),
            missing=row.missing_quantity if missing is None else missing,
            paid_out=paid_out or ZERO,
        )
    if kind in (Kind.ORDER, Kind.PRODUCT_ORDER):
        refund = _refund_due(
            status=finish.status, figures=figures_of(kind, row), delivery=finish.delivery
        )
        if refund is None:
            raise InvalidTransition(
                "Nothing says what was delivered: give the delivered quantity or the provider's charge"
            )
        return fields, refund
    return fields, ZERO


Finishable = Order | ProductOrder | Refill


def _locked_open(kind: Kind, pk: int) -> Finishable | None:
    """The row under a NO KEY UPDATE lock, or None when it is already final."""
    finals = FINAL_BY_KIND[kind]
    if kind is Kind.ORDER:
        orders = Order.objects.select_for_update(no_key=True, of=("self",))
        return orders.select_related("service").filter(pk=pk).exclude(status__in=finals).first()
    if kind is Kind.PRODUCT_ORDER:
        products = ProductOrder.objects.select_for_update(no_key=True, of=("self",))
        return products.filter(pk=pk).exclude(status__in=finals).first()
    refills = Refill.objects.select_for_update(no_key=True, of=("self",))
    return refills.filter(pk=pk).exclude(status__in=finals).first()


def finish(kind: Kind, pk: int, end: Finish, *, actor: By, message: Text = "") -> Finishable | None:
    """Write a final status, its refund (ledger row included) and its event, under a row lock.

    Returns None, changing nothing, when the row is already final. Raises InvalidTransition
    from a dispatch state no final status is written in, or for a Partial nothing measures.
    """
    if kind is Kind.CANCEL or end.status not in FINAL_BY_KIND[kind]:
        raise ValueError(f"{end.status} is not a final status of a {kind}")
    with transaction.atomic():
        row = _locked_open(kind, pk)
        if row is None:
            return None
        if row.dispatch_state not in FINISH_FROM:
            raise InvalidTransition(f"{row} is {row.dispatch_state}: it cannot finish now")
        fields, refund = _settle(kind, row, end)
        old_status = row.status
        row.status = end.status
        row.dispatch_state, row.review_reason = FINISH_FROM[row.dispatch_state], ""
        fields += ["status", "dispatch_state", "review_reason", "updated_at"]
        row.refunded += refund
        row.finished_at = timezone.now()
        fields += ["refunded", "finished_at"]
        row.save(update_fields=fields)
        if refund > ZERO:
            credit = refund_credit(
                kind=kind, row_id=row.pk, user_id=row.user_id, amount=refund, status=end.status
            )
            balance_credit(**vars(credit))
        order_id = row.order_id if isinstance(row, Refill) else None
        source = row.source if isinstance(row, Order) else ""
        finished = Finished(
            row.pk,
            row.user_id,
            end.status,
            refund,
            order_id=order_id,
            old_status=old_status,
            source=source,
        )
        notify_finished_rows(type(row), [finished])
        event_for(
            row,
            field="status",
            old=old_status,
            new=end.status,
            message=message,
            actor=actor.name,
            actor_user=actor.user,
        ).save()
    return row


def review_restate(
    kind: Kind,
    pk: int,
    *,
    reason: str,
    message: Text,
    dispatch_error: str,
    actor: By,
    **values: Any,
) -> bool:
    """Give a row already in review a new reason (and values: an upstream id that came late).
    Values that break a unique key (an id another row has) are dropped, the reason is kept."""
    if reason not in RESOLUTIONS:
        raise ValueError(f"{reason} is not a review reason")
    rows = MODELS[kind].objects.filter(pk=pk, dispatch_state=DispatchState.NEEDS_REVIEW)
    fields = {
        "review_reason": reason,
        "dispatch_error": dispatch_error[:500],
        "updated_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            moved = rows.update(**fields, **values)
    except IntegrityError:
        moved = rows.update(**fields)
    if moved:
        review = DispatchState.NEEDS_REVIEW
        _dispatch_event(kind, pk, review, review, message, actor)
    return bool(moved)


def status_start(pk: int, *, to_status: str, actor: By, message: Text = "") -> bool:
    """An order the provider has moves from Pending to an open status it reported outside a
    poll round (the demo's history): a conditional update and its event, the one the
    scorecard reads the start time from. Returns whether it moved."""
    if to_status not in OrderStatus.opens() or to_status == OrderStatus.PENDING:
        raise InvalidTransition(f"an order does not start by moving to {to_status}")
    moved = Order.objects.filter(
        pk=pk, status=OrderStatus.PENDING, dispatch_state=DispatchState.SENT
    ).update(status=to_status, updated_at=timezone.now())
    if moved:
        event_for(
            pk,
            target_model=Order,
            field="status",
            old=OrderStatus.PENDING,
            new=to_status,
            message=message,
            actor=actor.name,
            actor_user=actor.user,
        ).save()
    return bool(moved)
