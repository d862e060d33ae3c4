"""The four kinds (orders, product orders, refills, cancel requests): what each sends upstream
and does on each outcome, forwarded by orders.services.dispatch.forwarding."""

from collections.abc import Callable
from typing import cast

from django.utils import timezone

from orders.lifecycle import Finish, Kind, Reason, finish
from orders.memos import REJECTED
from orders.models import (
    CancelRequest,
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
)
from orders.services.dispatch.forwarding import WORKER, Forwarding, forward_run
from orders.services.refill_escalation import refill_escalate
from orders.services.refills_and_cancels import held_cancel_apply
from orders.services.routing import order_reroute_after_rejection
from orders.type_rules import upstream_fields
from providers.client import ItemError, ProviderClient
from providers.errors import ProviderAmbiguous, ProviderRejected


def _rejected(kind: Kind, pk: int, status: str, note: bool = False) -> Callable[[str], None]:
    def reject(message: str) -> None:
        said = REJECTED(reason=message)
        end = Finish(status=status, note=said if note else None)
        finish(kind, pk, end, actor=WORKER, message=said)

    return reject


def _upstream_id_of(order: Order) -> str:
    # Refills and cancels go upstream only for sent orders, which have their upstream id.
    return cast(str, order.upstream_id)


def order_forward(*, order_id: int) -> str:
    """Send one order upstream (`add`). Returns what happened: sent, retry, waiting, failed,
    needs_review, skipped. A cancel that arrived while it was being sent is applied after."""
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
    outcome = forward_run(
        Forwarding(
            row=order,
            # The route chosen at placing (orders.services.routing) says which service id.
            send=lambda client: client.add(
                service=order.upstream_service_id or order.service.upstream_id, fields=fields
            ),
            on_sent=lambda upstream_id: None,
            on_rejected=_rejected(Kind.ORDER, order.pk, OrderStatus.CANCELED),
            # An explicit rejection may fail over to the next route; nothing else ever does.
            reroute=lambda message: order_reroute_after_rejection(
                order_id=order.pk, message=message
            ),
        )
    )
    if outcome != "skipped":
        held_cancel_apply(order_id=order.pk)
    return outcome


def product_order_forward(*, product_order_id: int) -> str:
    order = (
        ProductOrder.objects.select_related("provider", "product")
        .filter(pk=product_order_id)
        .first()
    )
    if order is None:
        return "missing"
    return forward_run(
        Forwarding(
            row=order,
            send=lambda client: client.add_product_order(
                product=order.product.upstream_id, quantity=order.quantity, require=order.require
            ),
            on_sent=lambda upstream_id: None,
            on_rejected=_rejected(
                Kind.PRODUCT_ORDER, order.pk, ProductOrderStatus.CANCELED, note=True
            ),
        )
    )


def refill_forward(*, refill_id: int) -> str:
    refill = Refill.objects.select_related("provider", "order").filter(pk=refill_id).first()
    if refill is None:
        return "missing"
    return forward_run(
        Forwarding(
            row=refill,
            send=lambda client: client.refill(_upstream_id_of(refill.order)),
            on_sent=lambda upstream_id: None,
            # Not the end of it: the service's refill rule takes over (ask again, reorder
            # elsewhere or refund pro rata), in this same transaction.
            on_rejected=lambda message: _refill_rejected(refill),
        )
    )


def _refill_rejected(refill: Refill) -> None:
    now = timezone.now()
    Refill.objects.filter(pk=refill.pk).update(deadline_at=now)
    refill_escalate(refill_id=refill.pk, now=now)


def cancel_forward(*, cancel_request_id: int) -> str:
    request = (
        CancelRequest.objects.select_related("provider", "order")
        .filter(pk=cancel_request_id)
        .first()
    )
    if request is None:
        return "missing"
    if request.order.dispatch_state != DispatchState.SENT:
        return "waiting"  # held until the order's add has an outcome (requests.held_cancel_apply)

    def send(client: ProviderClient) -> str:
        upstream_id = _upstream_id_of(request.order)
        answer = client.cancel([upstream_id]).get(upstream_id)
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
        # Look at the order soon: the provider's cancel shows up as its status.
        Order.objects.filter(pk=request.order_id, dispatch_state=DispatchState.SENT).update(
            next_poll_at=timezone.now(), poll_idle_count=0
        )

    return forward_run(
        Forwarding(
            row=request,
            send=send,
            on_sent=accepted,
            on_rejected=lambda message: None,
            unknown_reason=Reason.CANCEL_UNKNOWN,
            sent_values={"outcome": CancelRequest.Outcome.ACCEPTED},
            rejected_values={"outcome": CancelRequest.Outcome.REJECTED},
        )
    )
