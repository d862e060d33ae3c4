"""After forwarding: the sweeper that re-queues lost tasks and flags rows stuck in `sending`,
and the resolutions a person makes for rows whose upstream outcome is unknown."""

from datetime import datetime, timedelta

from celery import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders.errors import InvalidTransition
from orders.models import (
    CancelRequest,
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
)
from orders.services.dispatch import FINAL_STATUSES_BY_MODEL, SWEEP_GRACE, Forwarding, transition
from orders.services.events import Actor, event_for
from orders.services.finalize import order_finalize, product_order_finalize


def _stuck_after() -> timedelta:
    # Past the task's hard time limit the worker that claimed the row is gone.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def dispatch_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Flag rows stuck in `sending` and re-queue the forward tasks of rows whose task was lost
    or whose retry time has come. Returns counts per kind for the log."""
    from orders import tasks

    now = now or timezone.now()
    counts: dict[str, int] = {}
    kinds = (
        (Order, tasks.order_forward_task),
        (ProductOrder, tasks.product_order_forward_task),
        (Refill, tasks.refill_forward_task),
        (CancelRequest, tasks.cancel_forward_task),
    )
    for model, task in kinds:
        stuck = model.objects.filter(
            dispatch_state=DispatchState.SENDING, sending_started_at__lt=now - _stuck_after()
        )
        # The plugin checks "order" against every model of the loop; only CancelRequest has it.
        for row in stuck.select_related("order") if model is CancelRequest else stuck:  # type: ignore[misc]
            forward = Forwarding(
                row=row, send=lambda client: "", on_sent=lambda _: None, on_rejected=lambda _: None
            )
            transition(
                forward,
                from_state=DispatchState.SENDING,
                to_state=DispatchState.NEEDS_REVIEW,
                actor=Actor.SWEEPER,
                message="No answer was recorded: the worker stopped during the upstream call. Not resent.",
                dispatch_error="worker lost during the upstream call",
            )
        due = list(
            model.objects.filter(
                dispatch_state=DispatchState.QUEUED,
                next_dispatch_at__lte=now - SWEEP_GRACE,
                provider__is_enabled=True,
                provider__credentials_failed_at__isnull=True,
            )
            .exclude(provider__dispatch_paused_until__gt=now)
            .order_by("next_dispatch_at")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in due:
            task.delay(pk)
        counts[model.__name__] = len(due)
    return counts


def _reviewable(
    model: type[Order] | type[ProductOrder] | type[Refill], pk: int
) -> Order | ProductOrder | Refill:
    row = model.objects.select_related("provider").filter(pk=pk).first()
    if row is None or row.dispatch_state != DispatchState.NEEDS_REVIEW:
        raise InvalidTransition("Only an order that needs review can be resolved this way")
    return row


def dispatch_resolve_placed(
    *,
    model: type[Order] | type[ProductOrder] | type[Refill],
    pk: int,
    upstream_id: str,
    admin: User,
) -> None:
    """An admin found the request at the provider: record its id and start polling it."""
    upstream_id = upstream_id.strip()
    if not upstream_id:
        raise InvalidTransition("Give the provider's id for it")
    row = _reviewable(model, pk)
    now = timezone.now()
    with transaction.atomic():
        updated = model.objects.filter(pk=pk, dispatch_state=DispatchState.NEEDS_REVIEW).update(
            dispatch_state=DispatchState.SENT,
            upstream_id=upstream_id,
            sent_at=now,
            next_poll_at=now,
            dispatch_error="",
            updated_at=now,
        )
        if updated:
            event_for(
                row,
                field="dispatch",
                old=DispatchState.NEEDS_REVIEW,
                new=DispatchState.SENT,
                message=f"Found at the provider as {upstream_id}",
                actor=Actor.ADMIN,
                actor_user=admin,
            ).save()


def dispatch_resolve_resend(
    *, model: type[Order] | type[ProductOrder] | type[Refill], pk: int, admin: User
) -> None:
    """An admin confirmed the provider never got it: queue it again (a person's decision, never automatic)."""
    from orders import tasks

    row = _reviewable(model, pk)
    if row.status in FINAL_STATUSES_BY_MODEL[model]:
        raise InvalidTransition(f"{row} is already {row.status}: it is not sent again")
    forward_tasks: dict[type, Task[..., str]] = {
        Order: tasks.order_forward_task,
        ProductOrder: tasks.product_order_forward_task,
        Refill: tasks.refill_forward_task,
    }
    task = forward_tasks[model]
    now = timezone.now()
    with transaction.atomic():
        updated = model.objects.filter(pk=pk, dispatch_state=DispatchState.NEEDS_REVIEW).update(
            dispatch_state=DispatchState.QUEUED,
            next_dispatch_at=now,
            sending_started_at=None,
            updated_at=now,
        )
        if updated:
            event_for(
                row,
                field="dispatch",
                old=DispatchState.NEEDS_REVIEW,
                new=DispatchState.QUEUED,
                message="Not at the provider: sent again by an admin",
                actor=Actor.ADMIN,
                actor_user=admin,
            ).save()
            transaction.on_commit(lambda: task.delay(pk))


def dispatch_resolve_cancel(
    *, model: type[Order] | type[ProductOrder], pk: int, admin: User, reason: str = ""
) -> None:
    """Give up on it: fail the dispatch and refund the customer in full."""
    row = _reviewable(model, pk)
    now = timezone.now()
    message = reason or "Canceled by an admin after review"
    with transaction.atomic():
        updated = model.objects.filter(pk=pk, dispatch_state=DispatchState.NEEDS_REVIEW).update(
            dispatch_state=DispatchState.FAILED, updated_at=now
        )
        if not updated:
            return
        event_for(
            row,
            field="dispatch",
            old=DispatchState.NEEDS_REVIEW,
            new=DispatchState.FAILED,
            message=message,
            actor=Actor.ADMIN,
            actor_user=admin,
        ).save()
        finished: Order | ProductOrder | None
        if model is Order:
            finished = order_finalize(
                order_id=pk,
                status=OrderStatus.CANCELED,
                actor=Actor.ADMIN,
                actor_user=admin,
                message=message,
            )
        else:
            finished = product_order_finalize(
                product_order_id=pk,
                status=ProductOrderStatus.CANCELED,
                actor=Actor.ADMIN,
                actor_user=admin,
                note=message,
                message=message,
            )
        if finished is None:
            # Already final: nothing to refund here, and saying "refunded" would be a lie.
            raise InvalidTransition(
                f"{row} is already {row.status}: it cannot be canceled and refunded"
            )


def dispatch_resolve_cancel_request(*, pk: int, outcome: str, admin: User) -> None:
    """An admin settled a cancel request whose answer was lost, after looking at the provider."""
    request = (
        CancelRequest.objects.select_related("order")
        .filter(pk=pk, dispatch_state=DispatchState.NEEDS_REVIEW)
        .first()
    )
    if request is None:
        raise InvalidTransition("Only a cancel request that needs review can be settled")
    accepted = outcome == CancelRequest.Outcome.ACCEPTED
    now = timezone.now()
    with transaction.atomic():
        CancelRequest.objects.filter(pk=pk).update(
            outcome=outcome,
            dispatch_state=DispatchState.SENT if accepted else DispatchState.FAILED,
            updated_at=now,
        )
        if accepted:
            Order.objects.filter(pk=request.order_id, dispatch_state=DispatchState.SENT).update(
                next_poll_at=now, poll_idle_count=0
            )
        event_for(
            request.order,
            field="cancel",
            old="needs review",
            new=outcome,
            message="Settled by an admin after looking at the provider",
            actor=Actor.ADMIN,
            actor_user=admin,
        ).save()
