"""Forwarding to the provider, at most once.

Each forward claims its row (queued → sending) with a conditional update that commits before
the upstream call, so two workers can never both send it. What happens next depends on the
error class (PROTOCOL.md): only a request that provably never landed is retried; an unknown
outcome waits for a person and is never resent automatically.
"""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from accounts.models import User
from orders.errors import InvalidTransition
from orders.models import (
    FINAL_ORDER_STATUSES,
    FINAL_PRODUCT_ORDER_STATUSES,
    FINAL_REFILL_STATUSES,
    CancelRequest,
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
)
from orders.services.events import Actor, event_for, event_record
from orders.services.finalize import order_finalize, product_order_finalize
from orders.type_rules import upstream_fields
from providers.client import ItemError, ProviderClient
from providers.client.messages import LINK_DUPLICATE
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.models import Provider
from providers.services import (
    provider_client,
    provider_mark_credentials_failed,
    provider_pause_dispatch,
    provider_record_error,
)

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 15
RETRY_CAP_SECONDS = 900
BUSY_PAUSE_SECONDS = 120
LINK_BUSY_DELAY = timedelta(minutes=10)
SWEEP_GRACE = timedelta(seconds=10)  # a fresh row's own task gets there first


_FINAL_STATUSES = {
    Order: FINAL_ORDER_STATUSES,
    ProductOrder: FINAL_PRODUCT_ORDER_STATUSES,
    Refill: FINAL_REFILL_STATUSES,
}


def first_poll_delay() -> timedelta:
    return timedelta(seconds=settings.PANEL_POLL_INTERVAL_SECONDS)


def _retry_delay(attempts: int) -> timedelta:
    seconds = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(1.0, 1.2))  # jitter spreads a herd of retries


@dataclass
class _Forward:
    """One row to forward and what its kind does on each outcome."""

    row: Order | ProductOrder | Refill | CancelRequest
    send: Callable[[ProviderClient], str]
    on_sent: Callable[[str], None]
    on_rejected: Callable[[str], None]

    @property
    def model(self) -> type[Model]:
        return type(self.row)

    @property
    def history(self) -> Model:
        """Where the events go: cancel requests write into their order's history."""
        return self.row.order if isinstance(self.row, CancelRequest) else self.row


def _transition(
    forward: _Forward,
    *,
    from_state: str,
    to_state: str,
    actor: str,
    message: str = "",
    **values: object,
) -> bool:
    updated = forward.model.objects.filter(pk=forward.row.pk, dispatch_state=from_state).update(
        dispatch_state=to_state, updated_at=timezone.now(), **values
    )
    if updated:
        event_record(
            forward.history,
            field="dispatch",
            old=from_state,
            new=to_state,
            message=message,
            actor=actor,
        )
    return bool(updated)


def _forward(forward: _Forward) -> str:
    now = timezone.now()
    provider: Provider = forward.row.provider
    if not provider.can_dispatch_at(now):
        return "waiting"
    claimable = forward.model.objects.filter(
        Q(next_dispatch_at__isnull=True) | Q(next_dispatch_at__lte=now),
        pk=forward.row.pk,
        dispatch_state=DispatchState.QUEUED,
    )
    if final := _FINAL_STATUSES.get(forward.model):
        claimable = claimable.exclude(status__in=final)  # a finished row is never bought again
    claimed = claimable.update(
        dispatch_state=DispatchState.SENDING,
        sending_started_at=now,
        updated_at=now,
        dispatch_attempts=F("dispatch_attempts") + 1,
    )
    if not claimed:
        return "skipped"
    attempts = forward.row.dispatch_attempts + 1
    event_record(
        forward.history,
        field="dispatch",
        old=DispatchState.QUEUED,
        new=DispatchState.SENDING,
        message=f"Attempt {attempts}",
        actor=Actor.WORKER,
    )
    sending = DispatchState.SENDING
    try:
        upstream_id = forward.send(provider_client(provider))
    except ProviderUnavailable as exc:
        provider_record_error(provider=provider, message=exc.message)
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.QUEUED,
            actor=Actor.WORKER,
            message=f"Not sent, will retry: {exc.message}",
            dispatch_error=exc.message[:500],
            next_dispatch_at=now + _retry_delay(attempts),
            sending_started_at=None,
        )
        return "retry"
    except ProviderBusy as exc:
        if exc.message == LINK_DUPLICATE:
            # Busy for this link only: this row waits, the provider's other orders go on.
            _transition(
                forward,
                from_state=sending,
                to_state=DispatchState.QUEUED,
                actor=Actor.WORKER,
                message=f"Waiting for the link's running order upstream: {exc.message}",
                dispatch_error=exc.message[:500],
                next_dispatch_at=now + LINK_BUSY_DELAY * random.uniform(1.0, 1.2),
                sending_started_at=None,
            )
            return "waiting"
        provider_pause_dispatch(provider=provider, seconds=BUSY_PAUSE_SECONDS, message=exc.message)
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.QUEUED,
            actor=Actor.WORKER,
            message=f"Provider busy, waiting: {exc.message}",
            dispatch_error=exc.message[:500],
            next_dispatch_at=provider.dispatch_paused_until,
            sending_started_at=None,
        )
        return "waiting"
    except ProviderAuthError as exc:
        provider_mark_credentials_failed(provider=provider, message=exc.message)
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.QUEUED,
            actor=Actor.WORKER,
            message=f"Provider refused the panel's key: {exc.message}",
            dispatch_error=exc.message[:500],
            sending_started_at=None,
        )
        return "waiting"
    except ProviderRejected as exc:
        with transaction.atomic():
            if _transition(
                forward,
                from_state=sending,
                to_state=DispatchState.FAILED,
                actor=Actor.WORKER,
                message=f"Rejected by the provider: {exc.message}",
                dispatch_error=exc.message[:500],
            ):
                forward.on_rejected(exc.message)
        return "failed"
    except ProviderAmbiguous as exc:
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.NEEDS_REVIEW,
            actor=Actor.WORKER,
            message=f"Outcome unknown, not resent: {exc.message}",
            dispatch_error=exc.message[:500],
        )
        return "needs_review"
    except Exception as exc:
        # A bug between claim and answer: whether the request left is unknown, so never resend.
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.NEEDS_REVIEW,
            actor=Actor.WORKER,
            message=f"Unexpected error, not resent: {exc!r}"[:500],
            dispatch_error=repr(exc)[:500],
        )
        raise
    return _record_sent(forward, upstream_id)


def _record_sent(forward: _Forward, upstream_id: str) -> str:
    """Store what the provider answered. The upstream id is what later proves the purchase, so
    it is written down even when the row cannot move to `sent`."""
    sending = DispatchState.SENDING
    try:
        with transaction.atomic():
            if _transition(
                forward,
                from_state=sending,
                to_state=DispatchState.SENT,
                actor=Actor.WORKER,
                message=f"Upstream id {upstream_id}" if upstream_id else "Accepted",
                upstream_id=upstream_id or None,
                sent_at=timezone.now(),
                next_poll_at=timezone.now() + first_poll_delay(),
                dispatch_error="",
            ):
                forward.on_sent(upstream_id)
                return "sent"
    except IntegrityError:
        message = (
            f"The provider answered with upstream id {upstream_id}, which another row already has"
        )
        _transition(
            forward,
            from_state=sending,
            to_state=DispatchState.NEEDS_REVIEW,
            actor=Actor.WORKER,
            message=message,
            dispatch_error=message,
        )
        return "needs_review"
    # The sweeper flagged the row while the provider was answering: keep its answer for the admin.
    message = (
        f"The provider answered late with upstream id {upstream_id or '(none)'}: it was bought"
    )
    event_record(
        forward.history,
        field="dispatch",
        old=sending,
        new=DispatchState.NEEDS_REVIEW,
        message=message,
        actor=Actor.WORKER,
    )
    forward.model.objects.filter(
        pk=forward.row.pk, dispatch_state=DispatchState.NEEDS_REVIEW
    ).update(dispatch_error=message[:500])
    return "needs_review"


# --- The four kinds -----------------------------------------------------------------------------


def order_forward(*, order_id: int) -> str:
    """Send one order upstream (`add`). Returns what happened: sent, retry, waiting, failed, needs_review, skipped."""
    order = Order.objects.select_related("provider", "service").filter(pk=order_id).first()
    if order is None:
        return "missing"
    fields = upstream_fields(
        service_type=order.service.type,
        link=order.link,
        quantity=order.quantity,
        runs=order.runs,
        interval=order.interval,
        details=order.details,
    )
    return _forward(
        _Forward(
            row=order,
            send=lambda client: client.add(service=order.service.upstream_id, fields=fields),
            on_sent=lambda upstream_id: None,
            on_rejected=lambda message: order_finalize(
                order_id=order.pk,
                status=OrderStatus.CANCELED,
                actor=Actor.WORKER,
                message=f"Rejected by the provider: {message}",
            ),
        )
    )


def product_order_forward(*, product_order_id: int) -> str:
    order = (
        ProductOrder.objects.select_related("provider", "product")
        .filter(pk=product_order_id)
        .first()
    )
    if order is None:
        return "missing"
    return _forward(
        _Forward(
            row=order,
            send=lambda client: client.add_product_order(
                product=order.product.upstream_id, quantity=order.quantity, require=order.require
            ),
            on_sent=lambda upstream_id: None,
            on_rejected=lambda message: product_order_finalize(
                product_order_id=order.pk,
                status=ProductOrderStatus.CANCELED,
                actor=Actor.WORKER,
                note=message,
                message=f"Rejected by the provider: {message}",
            ),
        )
    )


def refill_forward(*, refill_id: int) -> str:
    refill = Refill.objects.select_related("provider", "order").filter(pk=refill_id).first()
    if refill is None:
        return "missing"

    def reject(message: str) -> None:
        Refill.objects.filter(pk=refill.pk).update(
            status=RefillStatus.REJECTED, updated_at=timezone.now()
        )
        event_record(
            refill,
            field="status",
            old=refill.status,
            new=RefillStatus.REJECTED,
            message=message,
            actor=Actor.WORKER,
        )

    return _forward(
        _Forward(
            row=refill,
            send=lambda client: client.refill(refill.order.upstream_id),
            on_sent=lambda upstream_id: None,
            on_rejected=reject,
        )
    )


def cancel_forward(*, cancel_request_id: int) -> str:
    request = (
        CancelRequest.objects.select_related("provider", "order")
        .filter(pk=cancel_request_id)
        .first()
    )
    if request is None:
        return "missing"

    def send(client: ProviderClient) -> str:
        answer = client.cancel([request.order.upstream_id]).get(request.order.upstream_id)
        if isinstance(answer, ItemError) and answer.is_outcome_unknown:
            raise ProviderAmbiguous(answer.message, action="cancel")
        if isinstance(answer, ItemError):
            raise ProviderRejected(answer.message, action="cancel")
        if answer is None:
            raise ProviderAmbiguous(
                "The provider's cancel answer did not mention the order", action="cancel"
            )
        if answer is False:
            raise ProviderRejected("Cancel is not available for this order", action="cancel")
        return ""

    def accepted(_: str) -> None:
        CancelRequest.objects.filter(pk=request.pk).update(outcome=CancelRequest.Outcome.ACCEPTED)
        # Look at the order soon: the provider's cancel shows up as its status.
        Order.objects.filter(pk=request.order_id, dispatch_state=DispatchState.SENT).update(
            next_poll_at=timezone.now(), poll_idle_count=0
        )

    def rejected(message: str) -> None:
        CancelRequest.objects.filter(pk=request.pk).update(outcome=CancelRequest.Outcome.REJECTED)

    return _forward(_Forward(row=request, send=send, on_sent=accepted, on_rejected=rejected))


# --- Sweeping and human resolution -----------------------------------------------------------------


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
        for row in stuck.select_related("order") if model is CancelRequest else stuck:
            forward = _Forward(
                row=row, send=lambda client: "", on_sent=lambda _: None, on_rejected=lambda _: None
            )
            _transition(
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


def _reviewable(model: type[Model], pk: int) -> Model:
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
    if row.status in _FINAL_STATUSES[model]:
        raise InvalidTransition(f"{row} is already {row.status}: it is not sent again")
    task = {
        Order: tasks.order_forward_task,
        ProductOrder: tasks.product_order_forward_task,
        Refill: tasks.refill_forward_task,
    }[model]
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
