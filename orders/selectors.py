"""Reads of orders for the pages and the v2 API."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from core.ids import parse_id
from core.money import ZERO
from orders.models import CancelRequest, Order, OrderStatus, ProductOrder, Refill


def orders_for_user(*, user: User, status: str = "", search: str = "") -> QuerySet[Order]:
    orders = Order.objects.filter(user=user).select_related("service")
    if status:
        orders = orders.filter(status=status)
    if search:
        condition = Q(link__icontains=search)
        if (number := parse_id(search)) is not None:
            condition |= Q(pk=number) | Q(service_id=number)
        orders = orders.filter(condition)
    return orders.order_by("-id")


def order_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, dict]:
    rows = Order.objects.filter(user=user, pk__in=list(ids)).values(
        "id", "charge", "refunded", "start_count", "status", "remains"
    )
    return {row["id"]: row for row in rows}


def refill_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, dict]:
    return {
        row["id"]: row
        for row in Refill.objects.filter(user=user, pk__in=list(ids)).values("id", "status")
    }


def product_order_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, dict]:
    rows = ProductOrder.objects.filter(user=user, pk__in=list(ids)).values(
        "id", "charge", "refunded", "status", "result", "note"
    )
    return {row["id"]: row for row in rows}


def refills_for_user(*, user: User) -> QuerySet[Refill]:
    return Refill.objects.filter(user=user).select_related("order__service").order_by("-id")


def product_orders_for_user(*, user: User, status: str = "") -> QuerySet[ProductOrder]:
    orders = ProductOrder.objects.filter(user=user).select_related("product")
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-id")


def waiting_cancel_order_ids(*, user: User, order_ids: Iterable[int]) -> set[int]:
    return set(
        CancelRequest.objects.filter(
            user=user, order_id__in=list(order_ids), outcome=CancelRequest.Outcome.WAITING
        ).values_list("order_id", flat=True)
    )


def dashboard_figures(*, user: User) -> dict[str, object]:
    totals = Order.objects.filter(user=user).aggregate(
        count=Count("id"),
        active=Count(
            "id",
            filter=~Q(
                status__in=[OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED]
            ),
        ),
        completed=Count("id", filter=Q(status=OrderStatus.COMPLETED)),
        spent=Coalesce(Sum("charge"), ZERO),
        refunded=Coalesce(Sum("refunded"), ZERO),
    )
    spent: Decimal = totals["spent"] - totals["refunded"]
    return {
        "orders": totals["count"],
        "active": totals["active"],
        "completed": totals["completed"],
        "spent": spent,
    }
