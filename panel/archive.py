"""Old months archived: their orders, events and ledger rows written to files and their
partitions dropped (docs/scaling.md, "Archiving"; `manage.py archive_months`).

A month goes only when every order of it is accounted for: final, its refund written, no refill
or cancel request open, no reconciliation flag unsettled. The rows elsewhere that name its
orders (refills, cancel requests, ticket links, reconciliation flags) go into the same files and
are deleted with it, since their foreign keys would hold the partition. The ledger's rows are
summed per user and kind into LedgerArchivedTotal, so every balance still equals its ledger.
All of it runs in one transaction: a failure leaves the month as it was.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from accounts.models import BalanceTransaction, LedgerArchivedTotal
from core.db.locks import wait_transaction_lock
from core.db.partitions import archive as db_archive
from core.db.partitions import current_period, next_period
from orders.models import CancelRequest, Order, OrderEvent, OrderStatus, Refill, RefillStatus
from orders.models.keys import OrderClientRef, OrderOpenLink, OrderUpstreamId
from reconciliation.models import Mismatch, MismatchStatus
from support.models import Ticket


class MonthNotArchivable(Exception):
    """A month with an order not yet accounted for (the operator's command says which)."""


@dataclass(frozen=True)
class ArchivedMonth:
    period: int
    directory: Path
    orders: int


def months_archivable() -> list[int]:
    """The months with attached partitions older than PANEL_ARCHIVE_AFTER_MONTHS, oldest
    first."""
    newest = next_period(current_period(), -settings.PANEL_ARCHIVE_AFTER_MONTHS)
    attached = db_archive.months(table=Order._meta.db_table, state="attached")
    return [period for period in attached if period < newest]


def _refusal(low: int, high: int) -> str | None:
    in_month = Q(order_id__gte=low, order_id__lt=high)
    if (
        Order.objects.filter(pk__gte=low, pk__lt=high)
        .exclude(status__in=OrderStatus.finals())
        .exists()
    ):
        return "an order is not final"
    refund_due = Order.objects.filter(
        pk__gte=low, pk__lt=high, status__in=[OrderStatus.PARTIAL, OrderStatus.CANCELED]
    ).filter(refunded=0, charge__gt=0)
    if refund_due.exists():
        return "a refund is not written"
    if Refill.objects.filter(in_month, status__in=RefillStatus.opens()).exists():
        return "a refill is open"
    if (
        Refill.objects.filter(replacement_id__gte=low, replacement_id__lt=high)
        .exclude(in_month)
        .exists()
    ):
        return "a refill of another month is replaced by one of its orders"
    if CancelRequest.objects.filter(in_month, outcome=CancelRequest.Outcome.WAITING).exists():
        return "a cancel request is waiting"
    if Mismatch.objects.filter(in_month, status__in=MismatchStatus.unsettled()).exists():
        return "a reconciliation flag is unsettled"
    return None


def month_archive(*, period: int, directory: Path | None = None) -> ArchivedMonth:
    """Archive the month `period` (see the module's docstring); raises MonthNotArchivable."""
    bounds = db_archive.id_range(table=Order._meta.db_table, period=period)
    if bounds is None:
        raise MonthNotArchivable(f"{period}: no such month")
    low, high = bounds
    target = (directory or settings.BASE_DIR / "var/archive") / str(period)
    with transaction.atomic():
        # Beat's partition job and another archive wait: the registry changes under both.
        wait_transaction_lock("partitions-prepare")
        if reason := _refusal(low, high):
            raise MonthNotArchivable(f"{period}: {reason}")
        target.mkdir(parents=True, exist_ok=True)
        count = Order.objects.filter(pk__gte=low, pk__lt=high).count()
        _write_referencing(low, high, target)
        _ledger_totals_carry(period)
        for model in (Order, OrderEvent, BalanceTransaction):
            table = model._meta.db_table
            partition = f"{table}_p{period}"
            db_archive.partition_copy_out(partition=partition, path=target / f"{table}.csv.gz")
            db_archive.partition_archive_path_set(table=table, period=period, path=str(target))
        _delete_referencing(low, high)
        for model in (OrderEvent, BalanceTransaction, Order):
            table = model._meta.db_table
            db_archive.partition_drop(table=table, partition=f"{table}_p{period}")
    return ArchivedMonth(period=period, directory=target, orders=count)


def _referencing(low: int, high: int) -> list[tuple[str, object]]:
    in_month = Q(order_id__gte=low, order_id__lt=high)
    return [
        ("orders_refill", Refill.objects.filter(in_month)),
        ("orders_cancelrequest", CancelRequest.objects.filter(in_month)),
        ("reconciliation_mismatch", Mismatch.objects.filter(in_month)),
        ("support_ticket_orders", Ticket.orders.through.objects.filter(in_month)),
    ]


def _write_referencing(low: int, high: int, target: Path) -> None:
    for name, queryset in _referencing(low, high):
        sql, params = queryset.query.sql_with_params()  # type: ignore[attr-defined]
        db_archive.rows_copy_out(sql=sql, params=list(params), path=target / f"{name}.csv.gz")


def _delete_referencing(low: int, high: int) -> None:
    for _name, queryset in _referencing(low, high):
        queryset.delete()  # type: ignore[attr-defined]
    for model in (OrderClientRef, OrderUpstreamId, OrderOpenLink):
        model.objects.filter(order_id__gte=low, order_id__lt=high).delete()


def _ledger_totals_carry(period: int) -> None:
    rows = (
        BalanceTransaction.objects.filter(period=period)
        .values("user_id", "kind")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        total, created = LedgerArchivedTotal.objects.select_for_update().get_or_create(
            user_id=row["user_id"], kind=row["kind"], defaults={"amount": row["total"]}
        )
        if not created:
            total.amount += row["total"]
            total.save(update_fields=["amount"])
