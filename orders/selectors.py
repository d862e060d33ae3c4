"""Reads of orders for the pages and the v2 API."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypedDict

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from core.ids import parse_id
from core.money import ZERO
from orders.models import (
    ArchivedOrder,
    CancelRequest,
    Order,
    OrderClientRef,
    OrderStatus,
    ProductOrder,
    Refill,
    RefillStatus,
)


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


def order_is_archived(*, order_id: int, user: User) -> bool:
    """Whether the order was `user`'s and its month was archived (panel.archive), or, for
    staff, any customer's of their panel: its page says so. To anyone else it is unknown."""
    archived = ArchivedOrder.objects.filter(order_id=order_id)
    if user.is_staff:
        return archived.filter(user__child_panel_id=user.child_panel_id).exists()
    return archived.filter(user=user).exists()


def archived_order_by_client_ref(*, user: User, client_ref: str) -> int | None:
    """The id of the user's order of an archived month placed with `client_ref`: its key
    stays when its month goes (panel.archive)."""
    placed = OrderClientRef.objects.filter(user_id=user.pk, client_ref=client_ref)
    archived = ArchivedOrder.objects.filter(user=user, order_id__in=placed.values("order_id"))
    return archived.values_list("order_id", flat=True).first()


def order_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, Any]:
    rows = Order.objects.filter(user=user, pk__in=list(ids)).values(
        "id", "charge", "refunded", "start_count", "status", "remains"
    )
    return {row["id"]: row for row in rows}


def refill_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, Any]:
    return {
        row["id"]: row
        for row in Refill.objects.filter(user=user, pk__in=list(ids)).values("id", "status")
    }


def product_order_rows_by_id(*, user: User, ids: Iterable[int]) -> dict[int, Any]:
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


class DashboardFigures(TypedDict):
    orders: int
    active: int
    completed: int
    spent: Decimal


def dashboard_figures(*, user: User) -> DashboardFigures:
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


# --- Refill success rates (the services scorecard reads these) -------------------------------


@dataclass(frozen=True)
class RefillSuccess:
    """Finished refills and how many of them ended refilled (Completed)."""

    finished: int
    refilled: int

    @property
    def rate(self) -> Decimal | None:
        """Refilled / finished, 0..1 at 4 places; None before any refill finished."""
        if not self.finished:
            return None
        return (Decimal(self.refilled) / Decimal(self.finished)).quantize(Decimal("0.0001"))


REFILLED_BY = {
    # Per service: the customer was refilled, by the provider or by the panel's replacement.
    "service": ("order__service_id", Q(status=RefillStatus.COMPLETED)),
    # Per provider: it refilled the refill itself (asked once or twice); one the panel had to
    # reorder elsewhere or refund counts against it.
    "provider": ("provider_id", Q(status=RefillStatus.COMPLETED, replacement__isnull=True)),
}


def refill_success_rates(
    *, by: Literal["service", "provider"], since: datetime | None = None
) -> dict[int, RefillSuccess]:
    """Refill success per service id or per provider id: of the refills that finished (since
    `since`, by `finished_at`), how many ended refilled; the rest were refunded. Measured from
    real refills only: ids without a finished refill are absent (docs/lifecycle.md, "Refills")."""
    group_by, refilled = REFILLED_BY[by]
    refills = Refill.objects.filter(status__in=RefillStatus.finals())
    if since is not None:
        refills = refills.filter(finished_at__gte=since)
    rows = refills.values(group_by).annotate(
        finished=Count("id"), refilled=Count("id", filter=refilled)
    )
    return {
        row[group_by]: RefillSuccess(finished=row["finished"], refilled=row["refilled"])
        for row in rows
    }
