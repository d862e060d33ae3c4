"""What one status answer does to one polled row: the columns to write, the refund to credit
and the events, decided here so the polling engine only writes them in bulk."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from accounts.services import Credit
from core.memos import Text
from core.money import ZERO
from orders import pricing
from orders.lifecycle.events import Actor, event_values
from orders.lifecycle.refunds import (
    REFUNDING,
    Delivery,
    figures_of_order,
    figures_of_product_order,
    refund_credit,
    refund_due,
)
from orders.lifecycle.table import DISPATCH_MOVES, FINAL_BY_KIND, Kind, Reason
from orders.memos import PARTIAL_NO_FIGURES, REFILL_RULE_TAKES_OVER
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    Refill,
    RefillCause,
    RefillStatus,
)

IN_PROGRESS = OrderStatus.IN_PROGRESS  # the same word for orders and product orders
REJECTED = RefillStatus.REJECTED
_MODELS = {Kind.ORDER: Order, Kind.PRODUCT_ORDER: ProductOrder, Kind.REFILL: Refill}
assert (DispatchState.SENT, DispatchState.NEEDS_REVIEW) in DISPATCH_MOVES
assert (DispatchState.SENT, DispatchState.FAILED) in DISPATCH_MOVES


class Seen(NamedTuple):
    """What one upstream status answer says about a row (read by polling/kinds.py). A named
    tuple, not a frozen dataclass: one is built per polled row, and a frozen dataclass sets
    each field through `object.__setattr__`, several times the cost of a tuple."""

    status: str | None = None  # one of the kind's protocol statuses, aliases mapped
    unknown_status: str | None = None  # the raw status when it maps to none of them
    remains: int | None = None
    start_count: int | None = None
    upstream_charge: Decimal | None = None  # provider currency
    result: str | None = None
    note: str | None = None


@dataclass
class PollStep:
    """The columns one answer changes on one row, its refund credit and its events."""

    columns: dict[str, object] = field(default_factory=dict)
    credits: list[Credit] = field(default_factory=list)
    # Column values of event rows, not instances: a poll writes thousands of them in one
    # statement, and building model instances cost more than inserting them.
    events: list[dict[str, object]] = field(default_factory=list)
    is_finished: bool = False


def _delivery_columns(kind: Kind, row: dict, seen: Seen) -> dict[str, object]:
    new: dict[str, object] = {}
    if kind is Kind.ORDER:
        for name in ("remains", "start_count"):
            value = getattr(seen, name)
            if value is not None and value != row[name]:
                new[name] = value
    if kind is Kind.PRODUCT_ORDER:
        if seen.result and seen.result != row["result"]:
            new["result"] = seen.result
        if seen.note and seen.note[:500] != row["note"]:
            new["note"] = seen.note[:500]
    if kind is not Kind.REFILL and seen.upstream_charge is not None:
        cost = pricing.converted(amount=seen.upstream_charge, exchange_rate=row["exchange_rate"])
        if cost != row["cost"]:
            new["cost"] = cost
    return new


def _event(
    kind: Kind, row: dict, field_name: str, old: str, new: str, message: Text = ""
) -> dict[str, object]:
    return event_values(
        row["id"],
        target_model=_MODELS[kind],
        field=field_name,
        old=old,
        new=new,
        message=message,
        actor=Actor.POLLER,
    )


def _refund(kind: Kind, row: dict, seen: Seen, status: str) -> Decimal | None:
    figures = (figures_of_order if kind is Kind.ORDER else figures_of_product_order)(row)
    delivery = Delivery(remains=seen.remains, upstream_charge=seen.upstream_charge)
    return refund_due(status=status, figures=figures, delivery=delivery)


def poll_step(kind: Kind, row: dict, seen: Seen, now: datetime) -> PollStep:
    """The step for one row (a `.values()` row of the kind's poll fields) and one answer."""
    step = PollStep(columns=_delivery_columns(kind, row, seen))
    status = seen.status
    if status is None or status == row["status"]:
        return step
    if kind is Kind.REFILL and status == REJECTED:
        # Not the end of a refill: it leaves polling for `failed` and is due for its service's
        # escalation now (orders.services.refill_escalation): ask again, reorder or refund.
        step.columns.update(
            dispatch_state=DispatchState.FAILED,
            deadline_at=now,
            escalation_cause=RefillCause.REJECTED,
            dispatch_error=status,  # what the provider answered
        )
        step.events.append(
            _event(
                kind,
                row,
                "dispatch",
                DispatchState.SENT,
                DispatchState.FAILED,
                REFILL_RULE_TAKES_OVER(),
            )
        )
        return step
    if status in FINAL_BY_KIND[kind] and kind is not Kind.REFILL:
        refund = _refund(kind, row, seen, status) if status in REFUNDING else ZERO
        if refund is None:
            # The customer sees In progress (something was delivered) until the admin settles
            # it: not Partial, which promises a refund that does not exist yet.
            step.columns.update(
                status=IN_PROGRESS,
                dispatch_state=DispatchState.NEEDS_REVIEW,
                review_reason=Reason.PARTIAL_NO_FIGURES,
                dispatch_error=status,  # what the provider answered
            )
            step.events.append(
                _event(
                    kind,
                    row,
                    "dispatch",
                    DispatchState.SENT,
                    DispatchState.NEEDS_REVIEW,
                    PARTIAL_NO_FIGURES(),
                )
            )
            return step
        step.columns["finished_at"] = now
        if refund > ZERO:
            step.columns["refunded"] = row["refunded"] + refund
            step.credits.append(
                refund_credit(
                    kind=kind,
                    row_id=row["id"],
                    user_id=row["user_id"],
                    amount=refund,
                    status=status,
                )
            )
    step.is_finished = status in FINAL_BY_KIND[kind]
    if step.is_finished and kind is Kind.REFILL:
        step.columns["finished_at"] = now
    step.columns["status"] = status
    step.events.append(_event(kind, row, "status", row["status"], status))
    return step
