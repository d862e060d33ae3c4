"""What happens to a refill the provider rejects or does not finish by its deadline.

Each service names a rule (`Service.refill_escalation`): ask the provider again, order the
missing quantity at another route, or refund pro rata. Each step is taken at most once per
refill; when it fails too, or cannot be taken, the refill is refunded pro rata. So every refill
ends refilled (Completed) or refunded (Rejected, with the refund the lifecycle's one refill
rule computes: orders/lifecycle/refunds.py:refill_refund_due). docs/lifecycle.md, "Refills",
draws the ladder.

Refills in `sending` or in review are left alone: the first has an answer on its way, the
second waits for a person whose resolution ends it.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.memos import Memo
from orders.enqueue import enqueue
from orders.lifecycle import By, Delivery, Finish, Kind, dispatch_move, finish
from orders.lifecycle.events import Actor, event_record
from orders.memos import (
    REFILL_ASKED_AGAIN,
    REFILL_REFUNDED,
    REFILL_REORDERED,
    REFILLED_BY_REPLACEMENT,
    REPLACEMENT_OF,
    REPLACEMENT_SHORT,
)
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    Refill,
    RefillCause,
    RefillStatus,
    Source,
)
from orders.refill_rules import refill_deadline
from orders.services.routing import route_for_refill
from providers.models import RefillEscalation, ServiceType

WORKER = By(Actor.WORKER)
D = DispatchState


def _locked(refill_id: int) -> Refill | None:
    """The refill under a lock while it is open; None once final."""
    return (
        Refill.objects.select_for_update(no_key=True, of=("self",))
        .select_related("order__service", "provider")
        .filter(pk=refill_id, status__in=RefillStatus.opens())
        .first()
    )


def refill_escalate(*, refill_id: int, now: datetime | None = None) -> str:
    """Take the next step for a refill that is due (rejected, or past its deadline).

    Returns what happened: asked_again, reordered, refunded, waiting (sending, in review or
    not due) or final. Safe to call twice: the row is locked and each step checks that it was
    not taken yet.
    """
    now = now or timezone.now()
    with transaction.atomic():
        refill = _locked(refill_id)
        if refill is None:
            return "final"
        if refill.replacement_id is not None:
            return replacement_settle(refill_id=refill_id)
        if refill.dispatch_state in (D.SENDING, D.NEEDS_REVIEW):
            return "waiting"
        if refill.deadline_at is not None and refill.deadline_at > now:
            return "waiting"
        cause = RefillCause.REJECTED if refill.dispatch_state == D.FAILED else RefillCause.DEADLINE
        rule = refill.order.service.refill_escalation
        if not refill.escalation:
            if rule == RefillEscalation.ASK_AGAIN and _ask_again(refill, cause, now):
                return "asked_again"
            if rule == RefillEscalation.REORDER and _reorder(refill, cause, now):
                return "reordered"
        _refund(refill, cause, missing=None, message=REFILL_REFUNDED())
        return "refunded"


def _ask_again(refill: Refill, cause: str, now: datetime) -> bool:
    if refill.dispatch_state == D.QUEUED:
        return False  # never reached the provider since the last ask: asking again is no step
    moved = dispatch_move(
        Kind.REFILL,
        refill.pk,
        from_state=refill.dispatch_state,
        to_state=D.QUEUED,
        actor=WORKER,
        message=REFILL_ASKED_AGAIN(),
        upstream_id=None,
        next_dispatch_at=now,
        next_poll_at=None,
        sending_started_at=None,
        deadline_at=refill_deadline(order=refill.order, now=now),
        escalation=RefillEscalation.ASK_AGAIN,
        escalation_cause=cause,
    )
    if moved:
        _note(refill, REFILL_ASKED_AGAIN())
        enqueue("refill_forward_task", refill.pk, provider_id=refill.provider_id)
    return moved


def _reorder(refill: Refill, cause: str, now: datetime) -> bool:
    """Order the missing quantity at another route, at the panel's cost: a new upstream order
    linked to the refill, whose own final status ends the refill (replacement_settle)."""
    order = refill.order
    missing = refill.missing_quantity
    if order.service.type != ServiceType.DEFAULT or not missing or not order.link:
        return False  # only a plain link + quantity can be bought again as it was
    choice = route_for_refill(order.service, avoid_provider_id=refill.provider_id, quantity=missing)
    if choice is None:
        return False
    replacement = Order.objects.create(
        user_id=order.user_id,
        service=order.service,
        provider=choice.provider,
        route=choice.route,
        upstream_service_id=choice.upstream_service_id,
        link=order.link,
        quantity=missing,
        total_quantity=missing,
        charge=0,  # the warranty is the panel's to keep: the customer pays nothing more
        upstream_rate=choice.upstream_rate,
        exchange_rate=choice.exchange_rate,
        cost=choice.cost(units=missing, is_package=False),
        source=Source.REFILL,
        next_dispatch_at=now,
    )
    event_record(
        replacement,
        field="note",
        message=REPLACEMENT_OF(refill=refill.pk, order=order.pk),
        actor=Actor.WORKER,
    )
    if refill.dispatch_state == D.FAILED:
        Refill.objects.filter(pk=refill.pk).update(
            replacement=replacement,
            escalation=RefillEscalation.REORDER,
            escalation_cause=cause,
            updated_at=now,
        )
    elif not dispatch_move(
        Kind.REFILL,
        refill.pk,
        from_state=refill.dispatch_state,
        to_state=D.FAILED,
        actor=WORKER,
        message=REFILL_REORDERED(),
        next_poll_at=None,
        replacement=replacement,
        escalation=RefillEscalation.REORDER,
        escalation_cause=cause,
    ):
        raise RuntimeError(f"refill {refill.pk} moved while locked")
    _note(refill, REFILL_REORDERED())
    return True


def _refund(refill: Refill, cause: str, *, missing: int | None, message: Memo) -> None:
    # The row is locked (refill_escalate, replacement_settle): a forward's claim waits for it.
    """End the refill Rejected: the lifecycle refunds the missing share (once, on the ledger)."""
    Refill.objects.filter(pk=refill.pk).update(
        escalation=RefillEscalation.REFUND, escalation_cause=cause or refill.escalation_cause
    )
    if refill.dispatch_state not in (D.SENT, D.FAILED):
        # Queued (the provider never took it): it leaves the queue first, as a canceled row does.
        dispatch_move(
            Kind.REFILL,
            refill.pk,
            from_state=refill.dispatch_state,
            to_state=D.FAILED,
            actor=WORKER,
            message=message,
        )
    finish(
        Kind.REFILL,
        refill.pk,
        Finish(status=RefillStatus.REJECTED, delivery=Delivery(remains=missing)),
        actor=WORKER,
        message=message,
    )
    _note(refill, message)


def _note(refill: Refill, message: Memo) -> None:
    """The step in the order's history, which the customer reads ("Refill #N" and the note)."""
    event_record(
        refill.order, field="refill", new=str(refill.pk), message=message, actor=Actor.WORKER
    )


def replacement_settle(*, refill_id: int) -> str:
    """End a refill whose replacement order is final: Completed refills it; Partial or
    Canceled refunds what the replacement left undelivered (its remains)."""
    with transaction.atomic():
        refill = _locked(refill_id)
        if refill is None:
            return "final"
        replacement = refill.replacement
        if replacement is None or not replacement.is_final:
            return "waiting"
        if replacement.status == OrderStatus.COMPLETED:
            finish(
                Kind.REFILL,
                refill.pk,
                Finish(status=RefillStatus.COMPLETED),
                actor=WORKER,
                message=REFILLED_BY_REPLACEMENT(),
            )
            _note(refill, REFILLED_BY_REPLACEMENT())
            return "refilled"
        short = replacement.remains
        if replacement.status == OrderStatus.CANCELED or short is None:
            short = replacement.total_quantity
        _refund(refill, "", missing=short, message=REPLACEMENT_SHORT())
        return "refunded"


def refills_escalate_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The beat sweep: every open refill past its deadline (or rejected, which sets the
    deadline to now) takes its next step; every refill whose replacement order is final ends."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    due = list(
        Refill.objects.filter(
            Q(deadline_at__lte=now) | Q(deadline_at__isnull=True),  # opened before deadlines
            status__in=RefillStatus.opens(),
            replacement__isnull=True,
            dispatch_state__in=(D.QUEUED, D.SENT, D.FAILED),
        )
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )
    replaced = list(
        Refill.objects.filter(
            status__in=RefillStatus.opens(),
            replacement__status__in=OrderStatus.finals(),
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        outcome = refill_escalate(refill_id=pk, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    for pk in replaced:
        outcome = replacement_settle(refill_id=pk)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
