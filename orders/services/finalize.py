"""Final statuses and the refunds they carry: exactly once per order, whatever replays or races."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from accounts.money import ZERO
from accounts.services import balance_credit
from orders import pricing
from orders.models import (
    FINAL_ORDER_STATUSES,
    FINAL_PRODUCT_ORDER_STATUSES,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
)
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
    if status not in FINAL_ORDER_STATUSES:
        raise ValueError(f"{status} is not a final status")
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(no_key=True)
            .filter(pk=order_id)
            .exclude(status__in=FINAL_ORDER_STATUSES)
            .first()
        )
        if order is None:
            return None
        old_status = order.status
        if remains is not None:
            order.remains = remains
        elif status == OrderStatus.CANCELED:
            order.remains = order.total_quantity
        if start_count is not None:
            order.start_count = start_count
        refund = order_refund_due(
            charge=order.charge,
            refunded=order.refunded,
            status=status,
            remains=order.remains,
            total_quantity=order.total_quantity,
        )
        order.status, order.finished_at = status, timezone.now()
        order.refunded += refund
        order.save(
            update_fields=[
                "status",
                "remains",
                "start_count",
                "refunded",
                "finished_at",
                "updated_at",
            ]
        )
        if refund > ZERO:
            balance_credit(
                user_id=order.user_id,
                amount=refund,
                kind=BalanceTransaction.Kind.REFUND,
                order_id=order.pk,
                memo=f"Refund for order {order.pk} ({status.lower()})",
            )
        event_record(
            order,
            field="status",
            old=old_status,
            new=status,
            message=message,
            actor=actor,
            actor_user=actor_user,
        )
    return order


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
    if status not in FINAL_PRODUCT_ORDER_STATUSES:
        raise ValueError(f"{status} is not a final status")
    with transaction.atomic():
        order = (
            ProductOrder.objects.select_for_update(no_key=True)
            .filter(pk=product_order_id)
            .exclude(status__in=FINAL_PRODUCT_ORDER_STATUSES)
            .first()
        )
        if order is None:
            return None
        old_status = order.status
        if refund is None:
            refund = (
                order.charge - order.refunded if status == ProductOrderStatus.CANCELED else ZERO
            )
        refund = min(refund, order.charge - order.refunded)
        order.status, order.finished_at = status, timezone.now()
        order.refunded += refund
        if result is not None:
            order.result = result
        if note is not None:
            order.note = note[:500]
        order.save(
            update_fields=["status", "refunded", "result", "note", "finished_at", "updated_at"]
        )
        if refund > ZERO:
            balance_credit(
                user_id=order.user_id,
                amount=refund,
                kind=BalanceTransaction.Kind.REFUND,
                product_order_id=order.pk,
                memo=f"Refund for product order {order.pk} ({status.lower()})",
            )
        event_record(
            order,
            field="status",
            old=old_status,
            new=status,
            message=message,
            actor=actor,
            actor_user=actor_user,
        )
    return order
