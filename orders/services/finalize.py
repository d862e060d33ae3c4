"""Final statuses and the refunds they carry: exactly once per order, whatever replays or races."""

from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.services import balance_credit
from core.money import ZERO
from orders import pricing
from orders.models import (
    FINAL_ORDER_STATUSES,
    FINAL_PRODUCT_ORDER_STATUSES,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
)
from orders.notify import Finished, notify_finished_rows
from orders.services.events import event_record


def order_refund_due(
    *, charge: Decimal, refunded: Decimal, status: str, remains: int | None, total_quantity: int
) -> Decimal:
    """Full refund when canceled, the undelivered share when partial, nothing otherwise."""
    if status == OrderStatus.CANCELED:
        return charge - refunded
    if status == OrderStatus.PARTIAL:
        return max(
            pricing.partial_refund(charge=charge, remains=remains, total_quantity=total_quantity)
            - refunded,
            ZERO,
        )
    return ZERO


def product_refund_due(
    *,
    charge: Decimal,
    refunded: Decimal,
    upstream_rate: Decimal,
    quantity: int,
    status: str,
    upstream_charge: Decimal | None,
) -> Decimal | None:
    """Full when canceled; for a partial, the share upstream did not charge for, or None when
    upstream gave no charge to measure delivery by."""
    if status == ProductOrderStatus.CANCELED:
        return charge - refunded
    if status == ProductOrderStatus.PARTIAL:
        if upstream_charge is None:
            return None
        refund = pricing.undelivered_share_refund(
            charge=charge,
            upstream_charge=upstream_charge,
            upstream_expected=upstream_rate * quantity,
        )
        return max(refund - refunded, ZERO)
    return ZERO


def _finalize(
    model: type[Order] | type[ProductOrder],
    *,
    pk: int,
    status: str,
    final_statuses: tuple[str, ...],
    settle: Callable[[Order | ProductOrder], Decimal],
    fields: tuple[str, ...],
    label: str,
    actor: str,
    message: str,
    actor_user: User | None,
) -> Order | ProductOrder | None:
    """Lock the open row, let `settle` set its own fields and say the refund, then write the
    status, the refund and its ledger row and the event together. None when already final."""
    if status not in final_statuses:
        raise ValueError(f"{status} is not a final status")
    with transaction.atomic():
        row = (
            model.objects.select_for_update(no_key=True)
            .filter(pk=pk)
            .exclude(status__in=final_statuses)
            .first()
        )
        if row is None:
            return None
        old_status = row.status
        refund = min(settle(row), row.charge - row.refunded)
        row.status, row.finished_at = status, timezone.now()
        row.refunded += refund
        row.save(update_fields=["status", "refunded", "finished_at", "updated_at", *fields])
        if refund > ZERO:
            ledger_ref = "order_id" if model is Order else "product_order_id"
            balance_credit(
                user_id=row.user_id,
                amount=refund,
                kind=BalanceTransaction.Kind.REFUND,
                memo=f"Refund for {label} {row.pk} ({status.lower()})",
                **{ledger_ref: row.pk},
            )
        event_record(
            row,
            field="status",
            old=old_status,
            new=status,
            message=message,
            actor=actor,
            actor_user=actor_user,
        )
        notify_finished_rows(model, [Finished(row.pk, row.user_id, status, refund)])
    return row


def order_finalize(
    *,
    order_id: int,
    status: str,
    actor: str,
    remains: int | None = None,
    start_count: int | None = None,
    message: str = "",
    actor_user: User | None = None,
) -> Order | None:
    """Move an open order to a final status and refund what was not delivered.

    Locks the order row; returns None and changes nothing when the order is already final,
    so a replay or a racing poll cannot refund twice.
    """

    def settle(order: Order) -> Decimal:
        if remains is not None:
            order.remains = remains
        elif status == OrderStatus.CANCELED:
            order.remains = order.total_quantity
        if start_count is not None:
            order.start_count = start_count
        return order_refund_due(
            charge=order.charge,
            refunded=order.refunded,
            status=status,
            remains=order.remains,
            total_quantity=order.total_quantity,
        )

    return _finalize(
        Order,
        pk=order_id,
        status=status,
        final_statuses=FINAL_ORDER_STATUSES,
        settle=settle,
        fields=("remains", "start_count"),
        label="order",
        actor=actor,
        message=message,
        actor_user=actor_user,
    )


def product_order_finalize(
    *,
    product_order_id: int,
    status: str,
    actor: str,
    refund: Decimal | None = None,
    result: str | None = None,
    note: str | None = None,
    message: str = "",
    actor_user: User | None = None,
) -> ProductOrder | None:
    """The product-order twin of order_finalize; `refund` defaults to the full charge when canceled."""

    def settle(order: ProductOrder) -> Decimal:
        if result is not None:
            order.result = result
        if note is not None:
            order.note = note[:500]
        if refund is not None:
            return refund
        return order.charge - order.refunded if status == ProductOrderStatus.CANCELED else ZERO

    return _finalize(
        ProductOrder,
        pk=product_order_id,
        status=status,
        final_statuses=FINAL_PRODUCT_ORDER_STATUSES,
        settle=settle,
        fields=("result", "note"),
        label="product order",
        actor=actor,
        message=message,
        actor_user=actor_user,
    )
