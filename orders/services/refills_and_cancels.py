"""Refill and cancel requests from customers, resellers and admins, and who may ask for one."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.ids import parse_id
from core.memos import Memo
from orders.enqueue import enqueue
from orders.errors import CancelNotAvailable, IncorrectOrder, RefillNotAvailable
from orders.lifecycle import By, Finish, Kind, dispatch_move, figures_of, finish
from orders.lifecycle.events import Actor, event_record
from orders.lifecycle.refunds import refill_missing_quantity
from orders.memos import (
    CANCEL_HELD,
    CANCEL_NOT_SENT,
    CANCEL_REQUESTED,
    CANCELED_BEFORE_SENT,
    CANCELED_NEVER_LANDED,
    REFILL_REQUESTED,
)
from orders.models import CancelRequest, DispatchState, Order, OrderStatus, Refill, Source
from orders.refill_rules import refill_deadline, refill_history, refill_verdict

_ACTOR_BY_SOURCE: dict[str, str] = {
    Source.WEB: Actor.CUSTOMER,
    Source.MASS: Actor.CUSTOMER,
    Source.API: Actor.API,
    Source.ADMIN: Actor.ADMIN,
    Source.TELEGRAM: Actor.CUSTOMER,
}


def own_order(*, user: User, order_id: object) -> Order:
    """The user's order with this id; anyone else's is "Incorrect order ID", never "forbidden"."""
    pk = parse_id(order_id)
    if pk is None:
        raise IncorrectOrder()
    order = Order.objects.select_related("service", "provider").filter(pk=pk, user=user).first()
    if order is None:
        raise IncorrectOrder()
    return order


def can_refill(*, order: Order) -> bool:
    """Whether the order may be refilled now (orders.refill_rules has the why and the when)."""
    return refill_verdict(order=order, history=refill_history(order_id=order.pk)).allowed


def can_cancel(*, order: Order) -> bool:
    # A refill's replacement order is the panel's, at its cost: cancelling it would refund the
    # refill's missing part in cash while the refill is still being delivered.
    if order.is_final or order.source == Source.REFILL:
        return False
    if order.dispatch_state == DispatchState.QUEUED:
        return True  # not at the provider yet: the panel can cancel it alone
    # While `sending` the add's outcome is moments away: the cancel is recorded and applied
    # then (held_cancel_apply), rather than refused to a script that places and cancels at once.
    return order.service.has_cancel and order.dispatch_state in (
        DispatchState.SENT,
        DispatchState.SENDING,
    )


def refill_request(
    *, user: User, order_id: object, source: str = Source.WEB, staff: User | None = None
) -> Refill:
    """Ask for a refill of a completed or partial order whose service offers refills; `staff`
    names the person asking on the customer's behalf in the order's history.

    The service's rules decide (orders.refill_rules: warranty window, cap, cooldown, one in
    flight), the same for the web, the API and tickets. The order row is locked while they are
    checked, so two requests at once cannot both pass a cap or a cooldown. Raises
    IncorrectOrder, or RefillNotAvailable with the refusal in `detail`.
    """
    order = own_order(user=user, order_id=order_id)
    now = timezone.now()
    try:
        with transaction.atomic():
            Order.objects.select_for_update(no_key=True).filter(pk=order.pk).first()
            verdict = refill_verdict(
                order=order, history=refill_history(order_id=order.pk), now=now
            )
            if not verdict.allowed:
                raise RefillNotAvailable(verdict=verdict)
            figures = figures_of(Kind.ORDER, order)
            refill = Refill.objects.create(
                order=order,
                user=user,
                provider=order.provider,
                source=source,
                # Completed means all of it was delivered, whatever `remains` last said.
                missing_quantity=refill_missing_quantity(
                    order=figures,
                    remains=0 if order.status == OrderStatus.COMPLETED else order.remains,
                ),
                deadline_at=refill_deadline(order=order, now=now),
            )
            event_record(
                order,
                field="refill",
                new=str(refill.pk),
                message=REFILL_REQUESTED(),
                actor=_ACTOR_BY_SOURCE[source],
                actor_user=staff,
            )
            enqueue("refill_forward_task", refill.pk, provider_id=refill.provider_id)
    except IntegrityError:
        # A refill of this order is still running (the one-in-flight index).
        raise RefillNotAvailable(
            verdict=refill_verdict(order=order, history=refill_history(order_id=order.pk))
        ) from None
    return refill


def _cancel_unsent(order_id: int, actor: By, message: Memo) -> bool:
    """Cancel an order that never reached the provider, with a full refund. The claim that
    forwarding uses (queued → ...): whoever moves it out of `queued` first wins."""
    with transaction.atomic():
        if not dispatch_move(
            Kind.ORDER,
            order_id,
            from_state=DispatchState.QUEUED,
            to_state=DispatchState.FAILED,
            actor=actor,
            message=message,
            dispatch_error="",
        ):
            return False
        finish(
            Kind.ORDER, order_id, Finish(status=OrderStatus.CANCELED), actor=actor, message=message
        )
    return True


def order_cancel(
    *, user: User, order_id: object, source: str = Source.WEB, staff: User | None = None
) -> Order:
    """Cancel an order (`staff`: the person asking on the customer's behalf, in its history). Not yet sent: canceled here and refunded at once. Being sent: the cancel
    is recorded and applied once the add's outcome is known. Sent, with a service that allows
    it: a cancel request goes upstream and the refund follows its status.

    Raises IncorrectOrder or CancelNotAvailable.
    """
    order = own_order(user=user, order_id=order_id)
    if not can_cancel(order=order):
        raise CancelNotAvailable()
    actor = By(_ACTOR_BY_SOURCE[source], staff)
    if order.dispatch_state == DispatchState.QUEUED:
        if _cancel_unsent(order.pk, actor, CANCELED_BEFORE_SENT()):
            return own_order(user=user, order_id=order.pk)
        order = own_order(user=user, order_id=order.pk)
        if not can_cancel(order=order) or order.dispatch_state == DispatchState.QUEUED:
            raise CancelNotAvailable()
    _cancel_request(order, user=user, source=source, staff=staff)
    if order.dispatch_state != DispatchState.SENT:
        # The add may have finished between the read above and the insert: apply it now.
        held_cancel_apply(order_id=order.pk)
    return order


def _cancel_request(order: Order, *, user: User, source: str, staff: User | None) -> None:
    is_held = order.dispatch_state != DispatchState.SENT
    try:
        with transaction.atomic():
            request = CancelRequest.objects.create(
                order=order,
                user=user,
                provider=order.provider,
                source=source,
                next_dispatch_at=None if is_held else timezone.now(),
            )
            event_record(
                order,
                field="cancel",
                new="held" if is_held else "requested",
                message=CANCEL_HELD() if is_held else CANCEL_REQUESTED(),
                actor=_ACTOR_BY_SOURCE[source],
                actor_user=staff,
            )
            if not is_held:
                enqueue("cancel_forward_task", request.pk, provider_id=request.provider_id)
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


def held_cancel_apply(*, order_id: int) -> str | None:
    """Apply a cancel recorded while the order was being sent, now that the add's outcome is
    known: never landed (queued again) → canceled here with a full refund; sent → forwarded
    upstream; already final → closed. Still sending or in review → it keeps waiting."""
    held = CancelRequest.objects.filter(
        order_id=order_id,
        outcome=CancelRequest.Outcome.WAITING,
        dispatch_state=DispatchState.QUEUED,
        next_dispatch_at__isnull=True,
    ).first()
    if held is None:
        return None
    order = Order.objects.get(pk=order_id)
    actor = By(_ACTOR_BY_SOURCE[held.source])
    if order.dispatch_state == DispatchState.SENT and not order.is_final:
        CancelRequest.objects.filter(pk=held.pk, next_dispatch_at__isnull=True).update(
            next_dispatch_at=timezone.now()
        )
        enqueue("cancel_forward_task", held.pk, provider_id=held.provider_id)
        return "forwarded"
    if order.dispatch_state == DispatchState.QUEUED:
        _cancel_unsent(order_id, actor, CANCELED_NEVER_LANDED())
        order.refresh_from_db()
    if not order.is_final:
        return "held"
    outcome = (
        CancelRequest.Outcome.ACCEPTED
        if order.status == OrderStatus.CANCELED
        else CancelRequest.Outcome.REJECTED
    )
    dispatch_move(
        Kind.CANCEL,
        held.pk,
        from_state=DispatchState.QUEUED,
        to_state=DispatchState.FAILED,
        actor=actor,
        message=CANCEL_NOT_SENT(status=order.status),
        outcome=outcome,
    )
    return outcome
