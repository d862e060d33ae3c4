"""The resolutions a person makes for rows waiting in review (attach the provider's id, poll
again, send again, cancel, finish). Which resolution a row may get
is the lifecycle table's decision (orders/lifecycle/table.py, docs/lifecycle.md), never the
caller's: a row whose add may have landed is never sent again on anyone's click."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from core.ids import parse_id
from core.memos import Memo
from orders.enqueue import enqueue
from orders.errors import InvalidTransition
from orders.lifecycle import (
    FINAL_BY_KIND,
    MODELS,
    By,
    Delivery,
    Finish,
    Kind,
    Reason,
    Resolution,
    dispatch_move,
    figures_of,
    finish,
    resolutions_for,
)
from orders.lifecycle.events import Actor
from orders.lifecycle.moves import Row
from orders.memos import (
    CANCEL_SETTLED_BY_ADMIN,
    CANCELED_BY_ADMIN,
    COMPLETED_BY_ADMIN,
    FOUND_AT_PROVIDER,
    PARTIAL_BY_ADMIN_CHARGED,
    PARTIAL_BY_ADMIN_DELIVERED,
    POLLING_RESUMED,
    SENT_AGAIN,
)
from orders.models import (
    STATUS_NAMES,
    CancelRequest,
    DispatchState,
    Order,
    OrderStatus,
    Refill,
    RefillStatus,
)
from orders.services.placing import MassOrderLine
from orders.services.refills_and_cancels import held_cancel_apply
from orders.services.sweeps import FORWARD_TASKS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """What an admin gives with a resolution."""

    upstream_id: str = ""  # ATTACH_UPSTREAM_ID
    delivered: int | None = None  # FINISH_PARTIAL: units delivered, against the refund base
    upstream_charge: Decimal | None = None  # FINISH_PARTIAL: what the provider charged for it
    confirmed_absent: bool = False  # SEND_AGAIN: the admin checked it is not at the provider


def _status_name(value: str) -> str:
    """A status as people read it, in the active language (the error's words)."""
    return str(STATUS_NAMES.get(value, value))


def _reviewable(kind: Kind, pk: int) -> Row:
    row = MODELS[kind].objects.select_related("provider").filter(pk=pk).first()
    if row is None or row.dispatch_state != DispatchState.NEEDS_REVIEW:
        label = str(MODELS[kind]._meta.verbose_name).capitalize()
        raise InvalidTransition(
            gettext_noop("%(row)s %(pk)s is not in review: nothing to resolve"), row=label, pk=pk
        )
    return row


def review_resolve(
    *, kind: Kind, pk: int, resolution: str, admin: User, answer: Answer = Answer()
) -> None:
    """Resolve one row in review as an admin decided. Raises InvalidTransition when the row is
    not in review, its reason does not allow `resolution`, or the answer is missing or wrong."""
    if resolution not in Resolution.values:
        raise InvalidTransition(gettext_noop("Unknown resolution %(name)r"), name=resolution)
    row = _reviewable(kind, pk)
    if resolution not in resolutions_for(kind, row.review_reason):
        raise InvalidTransition(
            gettext_noop("%(row)s: '%(resolution)s' is not allowed for '%(reason)s'"),
            row=str(row),
            resolution=str(Resolution(resolution).label),
            reason=str(Reason(row.review_reason).label) if row.review_reason else "—",
        )
    by = By(Actor.ADMIN, admin)
    with transaction.atomic():
        _RESOLVERS[Resolution(resolution)](kind, row, by, answer)
    if kind is Kind.ORDER:
        held_cancel_apply(order_id=pk)


def _leave_review(kind: Kind, pk: int, to_state: str, by: By, message: Memo, **values: Any) -> None:
    """Move out of review; raises when someone else resolved it first (nothing changed)."""
    from_state = DispatchState.NEEDS_REVIEW
    if kind is Kind.REFILL and to_state != DispatchState.FAILED:
        # Back to the provider: a new deadline from now, or the escalation sweep would take
        # the refill (past its deadline while it waited for a person) before it goes.
        hours = (
            Refill.objects.filter(pk=pk)
            .values_list("order__service__refill_deadline_hours", flat=True)
            .first()
        )
        values["deadline_at"] = timezone.now() + timedelta(hours=hours or 0)
    if not dispatch_move(
        kind, pk, from_state=from_state, to_state=to_state, actor=by, message=message, **values
    ):
        raise InvalidTransition(
            gettext_noop("%(row)s %(pk)s was resolved meanwhile: look at it again"),
            row=str(MODELS[kind]._meta.verbose_name).capitalize(),
            pk=pk,
        )


def _back_to_polling(kind: Kind, row: Row, by: By, message: Memo, **values: Any) -> None:
    now = timezone.now()
    _leave_review(
        kind,
        row.pk,
        DispatchState.SENT,
        by,
        message,
        next_poll_at=now,
        poll_idle_count=0,
        poll_miss_count=0,
        dispatch_error="",
        **values,
    )


def _attach(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    upstream_id = answer.upstream_id.strip()
    if not upstream_id or len(upstream_id) > 64:
        raise InvalidTransition(gettext_noop("Give the provider's id for it"))
    other = (
        MODELS[kind]
        .objects.filter(provider_id=row.provider_id, upstream_id=upstream_id)
        .exclude(pk=row.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if other is not None:
        raise InvalidTransition(
            gettext_noop("Upstream id %(upstream_id)s is already used by %(row)s %(pk)s"),
            upstream_id=upstream_id,
            row=str(MODELS[kind]._meta.verbose_name),
            pk=other,
        )
    try:
        with transaction.atomic():
            _back_to_polling(
                kind,
                row,
                by,
                FOUND_AT_PROVIDER(upstream_id=upstream_id),
                upstream_id=upstream_id,
                sent_at=row.sent_at or timezone.now(),
            )
    except IntegrityError:
        raise InvalidTransition(
            gettext_noop("Upstream id %(upstream_id)s is already used"), upstream_id=upstream_id
        ) from None


def _resume(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if not row.upstream_id:
        raise InvalidTransition(
            gettext_noop("%(row)s has no upstream id to poll: attach one"), row=str(row)
        )
    _back_to_polling(kind, row, by, POLLING_RESUMED())


def _send_again(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if row.upstream_id:
        raise InvalidTransition(
            gettext_noop("%(row)s is at the provider as %(upstream_id)s: never sent again"),
            row=str(row),
            upstream_id=row.upstream_id,
        )
    if not answer.confirmed_absent:
        raise InvalidTransition(gettext_noop("Confirm that you checked it is not at the provider"))
    status = getattr(row, "status", "")  # a cancel request has an outcome, not a status
    if status in FINAL_BY_KIND[kind]:
        raise InvalidTransition(
            gettext_noop("%(row)s is already %(status)s: it is not sent again"),
            row=str(row),
            status=_status_name(status),
        )
    message = SENT_AGAIN()
    now = timezone.now()
    _leave_review(kind, row.pk, DispatchState.QUEUED, by, message, next_dispatch_at=now)
    enqueue(FORWARD_TASKS[kind], row.pk, provider_id=row.provider_id)


def _finish(kind: Kind, row: Row, by: By, end: Finish, message: Memo) -> None:
    if finish(kind, row.pk, end, actor=by, message=message) is None:
        # Already final: nothing to refund here, and saying "refunded" would be a lie.
        raise InvalidTransition(
            gettext_noop("%(row)s is already %(status)s"),
            row=str(row),
            status=_status_name(getattr(row, "status", "")) or "—",
        )


def _cancel_refund(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    status = RefillStatus.REJECTED if kind is Kind.REFILL else OrderStatus.CANCELED
    message = CANCELED_BY_ADMIN()
    if not row.upstream_id:
        # Never at the provider (as far as anyone knows): the dispatch failed.
        _leave_review(kind, row.pk, DispatchState.FAILED, by, message)
    note = message if kind is Kind.PRODUCT_ORDER else None
    _finish(kind, row, by, Finish(status=status, note=note), message)


def _finish_completed(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    delivery = Delivery(remains=0) if kind is Kind.ORDER else Delivery()
    _finish(
        kind, row, by, Finish(status=OrderStatus.COMPLETED, delivery=delivery), COMPLETED_BY_ADMIN()
    )


def _finish_partial(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if (answer.delivered is None) == (answer.upstream_charge is None):
        raise InvalidTransition(
            gettext_noop("Give either the delivered quantity or the provider's charge")
        )
    if answer.upstream_charge is not None:
        if answer.upstream_charge < 0:
            raise InvalidTransition(gettext_noop("The provider's charge cannot be negative"))
        delivery = Delivery(upstream_charge=answer.upstream_charge)
        said = PARTIAL_BY_ADMIN_CHARGED(charge=str(answer.upstream_charge))
    else:
        base = figures_of(kind, row).base
        if base is None:
            raise InvalidTransition(
                gettext_noop("A package's size is unknown here: give the provider's charge")
            )
        assert answer.delivered is not None
        if not 0 <= answer.delivered <= base:
            raise InvalidTransition(
                gettext_noop("The delivered quantity is between 0 and %(base)s"), base=base
            )
        delivery = Delivery(remains=base - answer.delivered)
        said = PARTIAL_BY_ADMIN_DELIVERED(delivered=answer.delivered, base=base)
    _finish(
        kind,
        row,
        by,
        Finish(status=OrderStatus.PARTIAL, delivery=delivery),
        said,
    )


def _settle_cancel(kind: Kind, row: Row, by: By, answer: Answer, *, accepted: bool) -> None:
    assert isinstance(row, CancelRequest)
    outcome = CancelRequest.Outcome.ACCEPTED if accepted else CancelRequest.Outcome.REJECTED
    to_state = DispatchState.SENT if accepted else DispatchState.FAILED
    message = CANCEL_SETTLED_BY_ADMIN()
    _leave_review(Kind.CANCEL, row.pk, to_state, by, message, outcome=outcome)
    if accepted:  # the provider's cancel shows up as the order's status: look soon
        Order.objects.filter(pk=row.order_id, dispatch_state=DispatchState.SENT).update(
            next_poll_at=timezone.now(), poll_idle_count=0
        )


_RESOLVERS = {
    Resolution.ATTACH_UPSTREAM_ID: _attach,
    Resolution.RESUME_POLLING: _resume,
    Resolution.SEND_AGAIN: _send_again,
    Resolution.CANCEL_REFUND: _cancel_refund,
    Resolution.FINISH_COMPLETED: _finish_completed,
    Resolution.FINISH_PARTIAL: _finish_partial,
    Resolution.CANCEL_ACCEPTED: lambda k, r, b, a: _settle_cancel(k, r, b, a, accepted=True),
    Resolution.CANCEL_REJECTED: lambda k, r, b, a: _settle_cancel(k, r, b, a, accepted=False),
}


# --- Resolving in bulk -------------------------------------------------------------------------


_SEPARATORS = re.compile(r"[\s,;|]+")


def review_attach_many(*, text: str, admin: User) -> list[MassOrderLine]:
    """Lines of "panel order id, upstream order id": each order in review gets its upstream id
    and is polled again; each line stands or fails alone (not in review, id already used...).
    The per-line results have the mass order's shape: line number, text, order or error."""
    results = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part for part in _SEPARATORS.split(line.strip()) if part]
        order_id = parse_id(parts[0]) if len(parts) == 2 else None
        if order_id is None:
            results.append(MassOrderLine(number, line, error="Write: panel order id, upstream id"))
            continue
        try:
            review_resolve(
                kind=Kind.ORDER,
                pk=order_id,
                resolution=Resolution.ATTACH_UPSTREAM_ID,
                admin=admin,
                answer=Answer(upstream_id=parts[1]),
            )
        except InvalidTransition as exc:
            results.append(MassOrderLine(number, line, error=exc.message))
        else:
            results.append(MassOrderLine(number, line, order=Order.objects.get(pk=order_id)))
    return results


__all__ = [
    "Answer",
    "review_attach_many",
    "review_resolve",
]
