"""Forwarding to the provider, at most once.

Each forward claims its row (queued → sending) with a conditional update that commits before
the upstream call, so two workers can never both send it. What happens next depends on the
error class (docs/protocol.md): only a request that provably never landed is retried; an unknown
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
from orders.notify import Finished, notify_finished_rows
from orders.services.events import Actor, event_record
from orders.services.finalize import order_finalize, product_order_finalize
from orders.type_rules import upstream_fields
from providers.client import ItemError, ProviderClient
from providers.client.messages import LINK_DUPLICATE
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderError,
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


FINAL_STATUSES_BY_MODEL = {
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
class Forwarding:
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


def transition(
    forward: Forwarding,
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


def _requeue(
    forward: Forwarding, message: str, error: ProviderError, next_at: datetime | None
) -> None:
    """Back to `queued`: the request provably did not land (or must wait), so it may go again."""
    transition(
        forward,
        from_state=DispatchState.SENDING,
        to_state=DispatchState.QUEUED,
        actor=Actor.WORKER,
        message=message,
        dispatch_error=error.message[:500],
        next_dispatch_at=next_at,
        sending_started_at=None,
    )


def _forward(forward: Forwarding) -> str:
    now = timezone.now()
    provider: Provider = forward.row.provider
    if not provider.can_dispatch_at(now):
        return "waiting"
    claimable = forward.model.objects.filter(
        Q(next_dispatch_at__isnull=True) | Q(next_dispatch_at__lte=now),
        pk=forward.row.pk,
        dispatch_state=DispatchState.QUEUED,
    )
    if final := FINAL_STATUSES_BY_MODEL.get(forward.model):
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
        _requeue(forward, f"Not sent, will retry: {exc.message}", exc, now + _retry_delay(attempts))
        return "retry"
    except ProviderBusy as exc:
        if exc.message == LINK_DUPLICATE:
            # Busy for this link only: this row waits, the provider's other orders go on.
            delay = LINK_BUSY_DELAY * random.uniform(1.0, 1.2)
            _requeue(
                forward,
                f"Waiting for the link's running order upstream: {exc.message}",
                exc,
                now + delay,
            )
            return "waiting"
        provider_pause_dispatch(provider=provider, seconds=BUSY_PAUSE_SECONDS, message=exc.message)
        _requeue(
            forward, f"Provider busy, waiting: {exc.message}", exc, provider.dispatch_paused_until
        )
        return "waiting"
    except ProviderAuthError as exc:
        provider_mark_credentials_failed(provider=provider, message=exc.message)
        _requeue(forward, f"Provider refused the panel's key: {exc.message}", exc, now)
        return "waiting"
    except ProviderRejected as exc:
        with transaction.atomic():
            if transition(
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
        transition(
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
        transition(
            forward,
            from_state=sending,
            to_state=DispatchState.NEEDS_REVIEW,
            actor=Actor.WORKER,
            message=f"Unexpected error, not resent: {exc!r}"[:500],
            dispatch_error=repr(exc)[:500],
        )
        raise
    return _record_sent(forward, upstream_id)


def _record_sent(forward: Forwarding, upstream_id: str) -> str:
    """Store what the provider answered. The upstream id is what later proves the purchase, so
    it is written down even when the row cannot move to `sent`."""
    sending = DispatchState.SENDING
    try:
        with transaction.atomic():
            if transition(
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
        transition(
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
        Forwarding(
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
        Forwarding(
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
        notify_finished_rows(
            Refill,
            [Finished(refill.pk, refill.user_id, RefillStatus.REJECTED, order_id=refill.order_id)],
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
        Forwarding(
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

    return _forward(Forwarding(row=request, send=send, on_sent=accepted, on_rejected=rejected))
