"""After forwarding: the sweeper that re-queues lost tasks and flags rows stuck in `sending`,
and the resolutions a person makes for rows waiting in review. Which resolution a row may get
is the lifecycle table's decision (orders/lifecycle/table.py, docs/lifecycle.md), never the
caller's: a row whose add may have landed is never sent again on anyone's click."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.ids import parse_id
from orders.enqueue import TaskName, enqueue, forward_task
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
from orders.models import CancelRequest, DispatchState, Order
from orders.services.dispatch import SWEEP_GRACE
from orders.services.placing import MassOrderLine
from orders.services.requests import held_cancel_apply

logger = logging.getLogger(__name__)

FORWARD_TASKS: dict[Kind, TaskName] = {
    Kind.ORDER: "order_forward_task",
    Kind.PRODUCT_ORDER: "product_order_forward_task",
    Kind.REFILL: "refill_forward_task",
    Kind.CANCEL: "cancel_forward_task",
}


def _stuck_after() -> timedelta:
    # Past the task's hard time limit the worker that claimed the row is gone.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def dispatch_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Flag rows stuck in `sending`, re-queue the forward tasks of rows whose task was lost or
    whose retry time has come, and apply held cancels whose order's add has an outcome.
    Returns counts per kind for the log."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for kind, model in MODELS.items():
        stuck = model.objects.filter(
            dispatch_state=DispatchState.SENDING, sending_started_at__lt=now - _stuck_after()
        ).values_list("pk", flat=True)
        for pk in stuck:
            dispatch_move(
                kind,
                pk,
                from_state=DispatchState.SENDING,
                to_state=DispatchState.NEEDS_REVIEW,
                actor=By(Actor.SWEEPER),
                reason=Reason.CANCEL_UNKNOWN if kind is Kind.CANCEL else Reason.WORKER_LOST,
                message="No answer was recorded: the worker stopped during the upstream call. "
                "Not resent.",
                dispatch_error="worker lost during the upstream call",
            )
        counts[model.__name__] = _queue_due(kind, before=now - SWEEP_GRACE, now=now, limit=limit)
    for order_id in (
        CancelRequest.objects.filter(
            dispatch_state=DispatchState.QUEUED, next_dispatch_at__isnull=True
        )
        .exclude(order__dispatch_state__in=[DispatchState.SENDING, DispatchState.NEEDS_REVIEW])[
            :limit
        ]
        .values_list("order_id", flat=True)
    ):
        held_cancel_apply(order_id=order_id)
    return counts


def forwards_queue(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Queue the forward task of every order and product order waiting in `queued` whose time
    has come. Placing publishes nothing (publishing cost a fair share of an API `add`,
    docs/performance.md): beat runs this
    every PANEL_FORWARD_SWEEP_SECONDS, so a new order is on its way within about a second.
    Returns counts per kind for the log."""
    now = now or timezone.now()
    return {
        MODELS[kind].__name__: _queue_due(kind, before=now, now=now, limit=limit)
        for kind in (Kind.ORDER, Kind.PRODUCT_ORDER)
    }


def _queue_due(kind: Kind, *, before: datetime, now: datetime, limit: int) -> int:
    """Queue the forward tasks of `kind`'s rows due by `before`, except those queued lately."""
    model = MODELS[kind]
    due = list(
        model.objects.filter(
            dispatch_state=DispatchState.QUEUED,
            next_dispatch_at__lte=before,
            provider__is_enabled=True,
            provider__credentials_failed_at__isnull=True,
        )
        .exclude(provider__dispatch_paused_until__gt=now)
        .order_by("next_dispatch_at")
        .values_list("pk", "next_dispatch_at")[:limit]
    )
    task = forward_task(FORWARD_TASKS[kind])
    fresh = _not_swept_lately(kind, due)
    for pk in fresh:
        task.delay(pk)
    return len(fresh)


def _not_swept_lately(kind: Kind, rows: list[tuple[int, datetime | None]]) -> list[int]:
    """The rows no sweep queued a task for within the last few sweeps.

    A row stays `queued` until its task runs; while the workers are down or busy, every sweep
    would queue one more task for it, and after a restart the workers wade through copies (each
    a no-op, but polls wait behind them). A cache mark per queued row skips it until the mark
    expires, by when its task has run or was lost. The mark names the row's due time too: a
    forward that must try again later (provider unreachable or busy) sets a new one, and is
    queued as soon as that comes, not when the first mark expires. Without the cache, every due
    row is queued."""
    marks = {
        f"dispatch-swept:{kind.value}:{pk}:{due_at.timestamp() if due_at else ''}": pk
        for pk, due_at in rows
    }
    try:
        seen = cache.get_many(list(marks))
        fresh = {key: pk for key, pk in marks.items() if key not in seen}
        cache.set_many(dict.fromkeys(fresh, 1), timeout=_resweep_seconds())
    except Exception:  # a cache outage must not stop forwarding: queue them all
        logger.warning("dispatch sweep: the cache is unreachable; queueing every due row")
        return [pk for pk, _ in rows]
    return list(fresh.values())


def _resweep_seconds() -> int:
    return max(3 * settings.PANEL_DISPATCH_SWEEP_SECONDS, 10)


@dataclass(frozen=True)
class Answer:
    """What an admin gives with a resolution."""

    upstream_id: str = ""  # ATTACH_UPSTREAM_ID
    delivered: int | None = None  # FINISH_PARTIAL: units delivered, against the refund base
    upstream_charge: Decimal | None = None  # FINISH_PARTIAL: what the provider charged for it
    confirmed_absent: bool = False  # SEND_AGAIN: the admin checked it is not at the provider


def _reviewable(kind: Kind, pk: int) -> Row:
    row = MODELS[kind].objects.select_related("provider").filter(pk=pk).first()
    if row is None or row.dispatch_state != DispatchState.NEEDS_REVIEW:
        label = str(MODELS[kind]._meta.verbose_name).capitalize()
        raise InvalidTransition(f"{label} {pk} is not in review: nothing to resolve")
    return row


def review_resolve(
    *, kind: Kind, pk: int, resolution: str, admin: User, answer: Answer = Answer()
) -> None:
    """Resolve one row in review as an admin decided. Raises InvalidTransition when the row is
    not in review, its reason does not allow `resolution`, or the answer is missing or wrong."""
    if resolution not in Resolution.values:
        raise InvalidTransition(f"Unknown resolution {resolution!r}")
    row = _reviewable(kind, pk)
    if resolution not in resolutions_for(kind, row.review_reason):
        raise InvalidTransition(
            f"{row}: '{Resolution(resolution).label}' is not allowed for "
            f"'{Reason(row.review_reason).label if row.review_reason else 'no reason'}'"
        )
    by = By(Actor.ADMIN, admin)
    with transaction.atomic():
        _RESOLVERS[Resolution(resolution)](kind, row, by, answer)
    if kind is Kind.ORDER:
        held_cancel_apply(order_id=pk)


def _leave_review(kind: Kind, pk: int, to_state: str, by: By, message: str, **values: Any) -> None:
    """Move out of review; raises when someone else resolved it first (nothing changed)."""
    from_state = DispatchState.NEEDS_REVIEW
    if not dispatch_move(
        kind, pk, from_state=from_state, to_state=to_state, actor=by, message=message, **values
    ):
        raise InvalidTransition(f"{kind} {pk} was resolved meanwhile: look at it again")


def _back_to_polling(kind: Kind, row: Row, by: By, message: str, **values: Any) -> None:
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
        raise InvalidTransition("Give the provider's id for it")
    other = (
        MODELS[kind]
        .objects.filter(provider_id=row.provider_id, upstream_id=upstream_id)
        .exclude(pk=row.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if other is not None:
        raise InvalidTransition(f"Upstream id {upstream_id} is already used by {kind} {other}")
    try:
        with transaction.atomic():
            _back_to_polling(
                kind,
                row,
                by,
                f"Found at the provider as {upstream_id}",
                upstream_id=upstream_id,
                sent_at=row.sent_at or timezone.now(),
            )
    except IntegrityError:
        raise InvalidTransition(f"Upstream id {upstream_id} is already used") from None


def _resume(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if not row.upstream_id:
        raise InvalidTransition(f"{row} has no upstream id to poll: attach one")
    _back_to_polling(kind, row, by, "Polling resumed by an admin")


def _send_again(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if row.upstream_id:
        raise InvalidTransition(f"{row} is at the provider as {row.upstream_id}: never sent again")
    if not answer.confirmed_absent:
        raise InvalidTransition("Confirm that you checked it is not at the provider")
    status = getattr(row, "status", "")  # a cancel request has an outcome, not a status
    if status in FINAL_BY_KIND[kind]:
        raise InvalidTransition(f"{row} is already {status}: it is not sent again")
    message = "Not at the provider (checked by an admin): sent again"
    now = timezone.now()
    _leave_review(kind, row.pk, DispatchState.QUEUED, by, message, next_dispatch_at=now)
    enqueue(FORWARD_TASKS[kind], row.pk)


def _finish(kind: Kind, row: Row, by: By, end: Finish, message: str) -> None:
    if finish(kind, row.pk, end, actor=by, message=message) is None:
        # Already final: nothing to refund here, and saying "refunded" would be a lie.
        raise InvalidTransition(f"{row} is already {getattr(row, 'status', 'settled')}")


def _cancel_refund(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    status = "Rejected" if kind is Kind.REFILL else "Canceled"
    message = "Canceled by an admin after review"
    if not row.upstream_id:
        # Never at the provider (as far as anyone knows): the dispatch failed.
        _leave_review(kind, row.pk, DispatchState.FAILED, by, message)
    note = message if kind is Kind.PRODUCT_ORDER else None
    _finish(kind, row, by, Finish(status=status, note=note), message)


def _finish_completed(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    delivery = Delivery(remains=0) if kind is Kind.ORDER else Delivery()
    _finish(kind, row, by, Finish(status="Completed", delivery=delivery), "Completed (admin)")


def _finish_partial(kind: Kind, row: Row, by: By, answer: Answer) -> None:
    if (answer.delivered is None) == (answer.upstream_charge is None):
        raise InvalidTransition("Give either the delivered quantity or the provider's charge")
    if answer.upstream_charge is not None:
        if answer.upstream_charge < 0:
            raise InvalidTransition("The provider's charge cannot be negative")
        delivery = Delivery(upstream_charge=answer.upstream_charge)
        said = f"the provider charged {answer.upstream_charge}"
    else:
        base = figures_of(kind, row).base
        if base is None:
            raise InvalidTransition("A package's size is unknown here: give the provider's charge")
        assert answer.delivered is not None
        if not 0 <= answer.delivered <= base:
            raise InvalidTransition(f"The delivered quantity is between 0 and {base}")
        delivery = Delivery(remains=base - answer.delivered)
        said = f"{answer.delivered} of {base} delivered"
    _finish(kind, row, by, Finish(status="Partial", delivery=delivery), f"Partial (admin): {said}")


def _settle_cancel(kind: Kind, row: Row, by: By, answer: Answer, *, accepted: bool) -> None:
    assert isinstance(row, CancelRequest)
    outcome = CancelRequest.Outcome.ACCEPTED if accepted else CancelRequest.Outcome.REJECTED
    to_state = DispatchState.SENT if accepted else DispatchState.FAILED
    message = "Settled by an admin after looking at the provider"
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
    "dispatch_sweep",
    "review_attach_many",
    "review_resolve",
]
