"""Refill and cancel requests from customers, resellers and admins."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.ids import parse_id
from orders.errors import CancelNotAvailable, IncorrectOrder, RefillNotAvailable
from orders.models import CancelRequest, DispatchState, Order, OrderStatus, Refill, Source
from orders.services.events import (
    NOTE_CANCEL_REQUESTED,
    NOTE_CANCELED_BEFORE_SENT,
    NOTE_REFILL_REQUESTED,
    Actor,
    event_record,
)
from orders.services.finalize import order_finalize
from orders.tasks import cancel_forward_task, refill_forward_task

_ACTOR_BY_SOURCE = {
    Source.WEB: Actor.CUSTOMER,
    Source.MASS: Actor.CUSTOMER,
    Source.API: Actor.API,
    Source.ADMIN: Actor.ADMIN,
}
REFILLABLE_STATUSES = (OrderStatus.COMPLETED, OrderStatus.PARTIAL)


def own_order(*, user: User, order_id: object) -> Order:
    """The user's order with this id; anyone else's is "Incorrect order ID", never "forbidden"."""
    pk = parse_id(order_id)
    if pk is None:
        raise IncorrectOrder()
    order = Order.objects.select_related("service", "provider").filter(pk=pk, user=user).first()
    if order is None:
        raise IncorrectOrder()
    return order


def can_refill(order: Order) -> bool:
    return (
        order.service.has_refill
        and order.status in REFILLABLE_STATUSES
        and order.dispatch_state == DispatchState.SENT
    )


def can_cancel(order: Order) -> bool:
    if order.is_final:
        return False
    if order.dispatch_state == DispatchState.QUEUED:
        return True  # not at the provider yet: the panel can cancel it alone
    return order.service.has_cancel and order.dispatch_state == DispatchState.SENT


def refill_request(*, user: User, order_id: object, source: str = Source.WEB) -> Refill:
    """Ask for a refill of a completed or partial order whose service offers refills.

    One refill runs at a time per order. Raises IncorrectOrder or RefillNotAvailable.
    """
    order = own_order(user=user, order_id=order_id)
    if not can_refill(order):
        raise RefillNotAvailable()
    try:
        with transaction.atomic():
            refill = Refill.objects.create(
                order=order, user=user, provider=order.provider, source=source
            )
            event_record(
                order,
                field="refill",
                new=str(refill.pk),
                message=NOTE_REFILL_REQUESTED,
                actor=_ACTOR_BY_SOURCE[source],
            )
            transaction.on_commit(lambda: refill_forward_task.delay(refill.pk))
    except IntegrityError:
        raise RefillNotAvailable() from None  # a refill of this order is still running
    return refill


def order_cancel(*, user: User, order_id: object, source: str = Source.WEB) -> Order:
    """Cancel an order. Not yet sent: canceled here and refunded at once. Sent, with a service
    that allows it: a cancel request goes upstream and the refund follows its status.

    Raises IncorrectOrder or CancelNotAvailable.
    """
    order = own_order(user=user, order_id=order_id)
    if not can_cancel(order):
        raise CancelNotAvailable()
    actor = _ACTOR_BY_SOURCE[source]
    if order.dispatch_state == DispatchState.QUEUED:
        with transaction.atomic():
            # The claim that forwarding uses: whoever moves it out of `queued` first wins.
            if Order.objects.filter(pk=order.pk, dispatch_state=DispatchState.QUEUED).update(
                dispatch_state=DispatchState.FAILED,
                dispatch_error="Canceled before it was sent",
                updated_at=timezone.now(),
            ):
                event_record(
                    order,
                    field="dispatch",
                    old=DispatchState.QUEUED,
                    new=DispatchState.FAILED,
                    message=NOTE_CANCELED_BEFORE_SENT,
                    actor=actor,
                )
                order_finalize(
                    order_id=order.pk,
                    status=OrderStatus.CANCELED,
                    actor=actor,
                    message=NOTE_CANCELED_BEFORE_SENT,
                )
                return own_order(user=user, order_id=order.pk)
        order = own_order(user=user, order_id=order.pk)
        if not can_cancel(order) or order.dispatch_state != DispatchState.SENT:
            raise CancelNotAvailable()
    try:
        with transaction.atomic():
            request = CancelRequest.objects.create(
                order=order, user=user, provider=order.provider, source=source
            )
            event_record(
                order,
                field="cancel",
                new="requested",
                message=NOTE_CANCEL_REQUESTED,
                actor=actor,
            )
            transaction.on_commit(lambda: cancel_forward_task.delay(request.pk))
    except IntegrityError:
        # A cancel of this order is already waiting: asking twice is the same request, unless
        # that one is stuck with an unknown outcome, which an admin has to settle first.
        waiting = CancelRequest.objects.filter(
            order=order, outcome=CancelRequest.Outcome.WAITING
        ).first()
        if waiting is None or waiting.dispatch_state in (
            DispatchState.NEEDS_REVIEW,
            DispatchState.FAILED,
        ):
            raise CancelNotAvailable() from None
    return order
