"""Old months archived: their orders, events and ledger rows written to files and their
partitions dropped (docs/scaling.md, "Archiving"; `manage.py archive_months`).

A month goes only when every order and product order of it is accounted for: final, its refund
written, no refill or cancel request open, no reconciliation flag unsettled, none of its orders
spilled into the DEFAULT partition; and no deposit of it can still be credited (its pending
deposits that their gateway can no longer report paid are closed first, in the same transaction:
payments.gateways.closing.deposits_close_expired). The rows elsewhere that name its orders
(refills and their events, cancel requests, ticket links, reconciliation flags) go into the same
files and are deleted with it, since their foreign keys would hold the partition; its product
orders are written and kept. The ledger's rows are summed per user and kind into
LedgerArchivedTotal, so every balance still equals its ledger; each order's owner is kept in
ArchivedOrder and its client_ref in OrderClientRef. All of it runs in one transaction: a failure
leaves the month as it was.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import BalanceTransaction, LedgerArchivedKey, LedgerArchivedTotal
from core.db.locks import wait_transaction_lock
from core.db.partitions import archive as db_archive
from core.db.partitions import current_period, next_period
from orders.models import (
    ArchivedOrder,
    CancelRequest,
    Order,
    OrderEvent,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    Refill,
    RefillStatus,
)
from orders.models.keys import OrderOpenLink, OrderUpstreamId
from payments.gateways.closing import deposits_close_expired
from payments.models import Deposit
from reconciliation.models import Mismatch, MismatchStatus
from support.models import Ticket


class MonthNotArchivable(Exception):
    """A month with an order not yet accounted for (the operator's command says which). It
    keeps the reason and its values, put into words in the reader's language when shown."""

    def __init__(self, period: int, reason: Promise, **params: object) -> None:
        super().__init__(period, reason, params)
        self.period, self.reason, self.params = period, reason, params

    def __str__(self) -> str:
        # A date as the reader writes one (dd/mm/yyyy in Vietnamese).
        params = {
            name: date_format(value, "SHORT_DATE_FORMAT") if isinstance(value, date) else value
            for name, value in self.params.items()
        }
        reason = self.reason % params if params else self.reason
        return gettext("%(month)s: %(reason)s") % {"month": self.period, "reason": reason}


# Why a month is refused (MonthNotArchivable), in the order they are checked.
NO_SUCH_MONTH = _("no such month")
ORDER_OPEN = _("an order is not final")
ORDER_REFUND_DUE = _("a refund is not written")
ORDER_SPILLED = _("an order of the month is in the DEFAULT partition")
PRODUCT_ORDER_OPEN = _("a product order is not final")
PRODUCT_ORDER_REFUND_DUE = _("a product order's refund is not written")
REFILL_OPEN = _("a refill is open")
REFILL_REPLACED_ACROSS = _("a refill of another month is replaced by one of its orders")
CANCEL_WAITING = _("a cancel request is waiting")
MISMATCH_UNSETTLED = _("a reconciliation flag is unsettled")
DEPOSITS_OPEN = ngettext_lazy(
    "%(count)s deposit not credited or rejected yet: #%(id)s of %(date)s (%(status)s)",
    "%(count)s deposits not credited or rejected yet, the oldest #%(id)s of %(date)s (%(status)s)",
    "count",
)


@dataclass(frozen=True)
class ArchivedMonth:
    period: int
    directory: Path
    orders: int
    deposits_closed: int


def months_archivable() -> list[int]:
    """The months with attached partitions older than PANEL_ARCHIVE_AFTER_MONTHS, oldest
    first."""
    newest = next_period(current_period(), -settings.PANEL_ARCHIVE_AFTER_MONTHS)
    attached = db_archive.months(table=Order._meta.db_table, state="attached")
    return [period for period in attached if period < newest]


def _span(model: type[Model], period: int) -> QuerySet:
    """The rows of `model` (an anchor of months: product orders, refills) whose month is
    `period`, however far their ids went."""
    span = db_archive.id_span(table=model._meta.db_table, period=period)
    if span is None:
        return model._default_manager.none()
    first, end = span
    rows = model._default_manager.filter(pk__gte=first)
    return rows if end is None else rows.filter(pk__lt=end)


def _spilled(period: int, high: int) -> bool:
    """Whether orders of the month sit past its range, in the DEFAULT partition: their events
    and ledger rows are in the month's partitions, but they are not dropped with it."""
    span = db_archive.id_span(table=Order._meta.db_table, period=period)
    end = span[1] if span else None
    rows = Order.objects.filter(pk__gte=high)
    return (rows if end is None else rows.filter(pk__lt=end)).exists()


def _refusal(period: int, low: int, high: int) -> MonthNotArchivable | None:
    in_month = Q(order_id__gte=low, order_id__lt=high)
    if (
        Order.objects.filter(pk__gte=low, pk__lt=high)
        .exclude(status__in=OrderStatus.finals())
        .exists()
    ):
        return MonthNotArchivable(period, ORDER_OPEN)
    refund_due = Order.objects.filter(
        pk__gte=low, pk__lt=high, status__in=[OrderStatus.PARTIAL, OrderStatus.CANCELED]
    ).filter(refunded=0, charge__gt=0)
    if refund_due.exists():
        return MonthNotArchivable(period, ORDER_REFUND_DUE)
    if _spilled(period, high):
        return MonthNotArchivable(period, ORDER_SPILLED)
    # Product orders stay (their table is not partitioned), but their events and ledger rows
    # go with their month: one still moving would write its refund into the DEFAULT partition.
    product_orders = _span(ProductOrder, period)
    if product_orders.exclude(status__in=ProductOrderStatus.finals()).exists():
        return MonthNotArchivable(period, PRODUCT_ORDER_OPEN)
    if (
        product_orders.filter(status__in=[ProductOrderStatus.PARTIAL, ProductOrderStatus.CANCELED])
        .filter(refunded=0, charge__gt=0)
        .exists()
    ):
        return MonthNotArchivable(period, PRODUCT_ORDER_REFUND_DUE)
    open_refills = Q(status__in=RefillStatus.opens())
    if Refill.objects.filter(in_month, open_refills).exists() or (
        _span(Refill, period).filter(open_refills).exists()
    ):
        return MonthNotArchivable(period, REFILL_OPEN)
    if (
        Refill.objects.filter(replacement_id__gte=low, replacement_id__lt=high)
        .exclude(in_month)
        .exists()
    ):
        return MonthNotArchivable(period, REFILL_REPLACED_ACROSS)
    if CancelRequest.objects.filter(in_month, outcome=CancelRequest.Outcome.WAITING).exists():
        return MonthNotArchivable(period, CANCEL_WAITING)
    if Mismatch.objects.filter(in_month, status__in=MismatchStatus.unsettled()).exists():
        return MonthNotArchivable(period, MISMATCH_UNSETTLED)
    return _open_deposits(period)


def _open_deposits(period: int) -> MonthNotArchivable | None:
    """A deposit of the month still undecided could be credited while the archive copies and
    drops the month, its ledger row then written into the month being dropped; credited once
    the month is archived, it is booked in the current month (payments.services.crediting).
    So the month waits: pending ones for their gateway (or an admin's "reject pending
    deposits"), the others for an admin's decision."""
    deposits = _span(Deposit, period).exclude(status__in=Deposit.Status.finals())
    oldest = deposits.order_by("created_at", "pk").first()
    if oldest is None:
        return None
    return MonthNotArchivable(
        period,
        DEPOSITS_OPEN,
        count=deposits.count(),
        id=oldest.pk,
        date=timezone.localtime(oldest.created_at).date(),
        # Its label, put into words as the refusal is shown.
        status=Deposit.Status(oldest.status).label,
    )


def month_archive(*, period: int, directory: Path | None = None) -> ArchivedMonth:
    """Archive the month `period` (see the module's docstring); raises MonthNotArchivable."""
    bounds = db_archive.id_range(table=Order._meta.db_table, period=period)
    if bounds is None:
        raise MonthNotArchivable(period, NO_SUCH_MONTH)
    low, high = bounds
    target = (directory or settings.BASE_DIR / "var/archive") / str(period)
    with transaction.atomic():
        # Beat's partition job and another archive wait: the registry changes under both.
        wait_transaction_lock("partitions-prepare")
        closed = deposits_close_expired(deposits=_span(Deposit, period))
        if refusal := _refusal(period, low, high):
            raise refusal
        target.mkdir(parents=True, exist_ok=True)
        count = Order.objects.filter(pk__gte=low, pk__lt=high).count()
        for name, queryset in (*_referencing(period, low, high), *_kept(period)):
            _write(queryset, target / f"{name}.csv.gz")
        # From the partition itself: exactly the rows dropped below, whatever else the
        # DEFAULT partition holds.
        db_archive.partition_sums_add(
            table=BalanceTransaction._meta.db_table,
            period=period,
            into=LedgerArchivedTotal._meta.db_table,
            keys=("user_id", "kind"),
            column="amount",
        )
        _ledger_keys_keep(period)
        db_archive.partition_rows_insert(
            table=Order._meta.db_table,
            period=period,
            into=ArchivedOrder._meta.db_table,
            columns={"order_id": "id", "user_id": "user_id", "period": db_archive.Constant(period)},
        )
        for model in (Order, OrderEvent, BalanceTransaction):
            table = model._meta.db_table
            db_archive.partition_copy_out(
                table=table, period=period, path=target / f"{table}.csv.gz"
            )
            db_archive.partition_archive_path_set(table=table, period=period, path=str(target))
        _delete_referencing(period, low, high)
        for model in (OrderEvent, BalanceTransaction, Order):
            db_archive.partition_drop(table=model._meta.db_table, period=period)
    return ArchivedMonth(period=period, directory=target, orders=count, deposits_closed=closed)


def _ledger_keys_keep(period: int) -> None:
    """The ledger keys of the rows dropped whose subject outlives them (LedgerArchivedKey)."""
    for subject in LedgerArchivedKey.Subject:
        db_archive.partition_rows_insert(
            table=BalanceTransaction._meta.db_table,
            period=period,
            into=LedgerArchivedKey._meta.db_table,
            columns={
                "subject": db_archive.Constant(subject.value),
                "subject_id": subject.value,
                "kind": "kind",
                "period": "period",
            },
            not_null=subject.value,
        )


def _referencing(period: int, low: int, high: int) -> list[tuple[str, QuerySet]]:
    """The rows elsewhere that name the month's orders, deleted with them (in this order)."""
    in_month = Q(order_id__gte=low, order_id__lt=high)
    refills = Refill.objects.filter(in_month)
    return [
        # A refill's events sit in the refill's month, which may be a later one than its
        # order's: written here, before deleting the refill deletes them.
        (
            "orders_orderevent_of_refills",
            OrderEvent.objects.filter(refill__in=refills).exclude(period=period),
        ),
        ("orders_refill", refills),
        ("orders_cancelrequest", CancelRequest.objects.filter(in_month)),
        ("reconciliation_mismatch", Mismatch.objects.filter(in_month)),
        ("support_ticket_orders", Ticket.orders.through.objects.filter(in_month)),
    ]


def _kept(period: int) -> list[tuple[str, QuerySet]]:
    """The rows of the month written out but kept: a product order's row is what guards a
    replay of its charge (its client_ref) and of its refund (its status and refunded)."""
    return [("orders_productorder", _span(ProductOrder, period))]


def _write(queryset: QuerySet, path: Path) -> None:
    if queryset.query.is_empty():  # a month no product order was made in: no file
        return
    sql, params = queryset.query.sql_with_params()
    db_archive.rows_copy_out(sql=sql, params=list(params), path=path)


def _delete_referencing(period: int, low: int, high: int) -> None:
    for _name, queryset in _referencing(period, low, high):
        queryset.delete()
    # The client references stay: a retried `add` meets its key and answers the archived order.
    for model in (OrderUpstreamId, OrderOpenLink):
        model.objects.filter(order_id__gte=low, order_id__lt=high).delete()
