"""Beat's sweeps of the forwards: queue the forward tasks of new rows (the forwarding sweep),
re-queue forwards whose task was lost, flag rows stuck in `sending` for review, and apply held
cancels once their order's add has an outcome. The worker's forward itself is in dispatch.py;
what a person decides for a row in review is in review.py."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from orders.enqueue import TaskName, forward_publish
from orders.lifecycle import (
    MODELS,
    By,
    Kind,
    Reason,
    dispatch_move,
)
from orders.lifecycle.events import Actor
from orders.memos import WORKER_LOST
from orders.models import CancelRequest, DispatchState
from orders.services.dispatch import SWEEP_GRACE, providers_without_free_slot
from orders.services.refills_and_cancels import held_cancel_apply

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
    busy = providers_without_free_slot()
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
                message=WORKER_LOST(),
                dispatch_error="worker lost during the upstream call",
            )
        counts[model.__name__] = _queue_due(
            kind, before=now - SWEEP_GRACE, now=now, limit=limit, busy=busy
        )
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
    busy = providers_without_free_slot()
    return {
        MODELS[kind].__name__: _queue_due(kind, before=now, now=now, limit=limit, busy=busy)
        for kind in (Kind.ORDER, Kind.PRODUCT_ORDER)
    }


def _queue_due(kind: Kind, *, before: datetime, now: datetime, limit: int, busy: set[int]) -> int:
    """Queue the forward tasks of `kind`'s rows due by `before`, except those queued lately
    and those of providers whose every forwarding slot is taken (a provider that hangs): their
    tasks could only wait, and the rows of the others come first in the `limit`."""
    model = MODELS[kind]
    due = list(
        model.objects.filter(
            dispatch_state=DispatchState.QUEUED,
            next_dispatch_at__lte=before,
            provider__is_enabled=True,
            provider__credentials_failed_at__isnull=True,
        )
        .exclude(provider__dispatch_paused_until__gt=now)
        .exclude(provider_id__in=busy)
        .order_by("next_dispatch_at")
        .values_list("pk", "next_dispatch_at", "provider_id")[:limit]
    )
    provider_of = {pk: provider_id for pk, _, provider_id in due}
    fresh = _not_swept_lately(kind, [(pk, due_at) for pk, due_at, _ in due])
    for pk in fresh:
        forward_publish(FORWARD_TASKS[kind], pk, provider_id=provider_of[pk])
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
