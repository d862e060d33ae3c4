"""The monthly partitions of orders, their events and the ledger, made ahead by beat
(docs/scaling.md, "Monthly partitions").

Which tables are partitioned and which ids anchor a month is said here, once; how is
core.db.partitions'. Beat runs this every hour: idempotent, cheap when there is nothing to do,
and the order id sequence moves up to the new month's range within the hour of its start.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import BalanceTransaction
from core.db.partitions import (
    Prepared,
    partitions_in_place,
    partitions_prepare,
    period_subject_register,
)
from notifications.models import Kind
from notifications.services import staff_alert
from orders.models import Order, OrderEvent, ProductOrder, Refill
from payments.models import Deposit

logger = logging.getLogger(__name__)

BY_ID = [Order]
BY_PERIOD = [OrderEvent, BalanceTransaction]
# The rows whose month the ledger and the events follow, by the column a ledger row names each
# with, first match first: a refill's refund names its refill alone, a deposit's bonus its
# deposit (core.db.partitions.period_of_subject_sql).
SUBJECTS = {
    "order_id": Order,
    "product_order_id": ProductOrder,
    "refill_id": Refill,
    "deposit_id": Deposit,
}
# The subjects whose months are marked when they start, not made ahead as id ranges.
ANCHORS = [model for model in SUBJECTS.values() if model not in BY_ID]


def period_subjects_register() -> None:
    """Tell core.db.partitions the subjects' tables, once as the app starts (OrdersConfig)."""
    for column, model in SUBJECTS.items():
        period_subject_register(column=column, table=model._meta.db_table)


def partitions_ready() -> bool:
    """Whether this database's tables are partitioned as the migrations leave them (not after a
    `migrate --fake` of the ones that partition them): what partitions_prepare_all needs."""
    return partitions_in_place(
        partitioned=[model._meta.db_table for model in [*BY_ID, *BY_PERIOD]],
        plain=[model._meta.db_table for model in ANCHORS],
    )


def partitions_prepare_all(
    *, now: datetime | None = None, wait: bool = True, alert: bool = True
) -> Prepared:
    """Make the coming months' partitions, move the order id sequence at a month's start, and
    alert the operators (once a day per table) when a DEFAULT partition holds rows: beat was
    down past the months made ahead, and those rows stay there until moved by hand. Without
    `wait`, raises core.db.partitions.PartitionsBusy rather than wait for another holder of
    the months (an archive); without `alert`, the caller says it (`migrate`'s run)."""
    prepared = partitions_prepare(
        by_id=[model._meta.db_table for model in BY_ID],
        by_period=[model._meta.db_table for model in BY_PERIOD],
        anchors=[model._meta.db_table for model in ANCHORS],
        now=now,
        wait=wait,
    )
    if prepared.created:
        logger.info("partitions created: %s", ", ".join(prepared.created))
    if prepared.sequence_moved_to is not None:
        logger.info("order ids of the new month start at %s", prepared.sequence_moved_to)
    if alert:
        for table_name in prepared.default_rows:
            _alert(table_name, now or timezone.now())
    return prepared


def _alert(table_name: str, now: datetime) -> None:
    logger.error("the DEFAULT partition of %s holds rows", table_name)
    values = {"table": table_name}
    # In the panel's language: operators read it.
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Rows in the DEFAULT partition of %(table)s") % values
        body = (
            gettext(
                "The table %(table)s received rows that no monthly partition covers, so they "
                "went to its DEFAULT partition: the hourly job that makes partitions ahead did "
                "not run for a long time. Nothing was lost, but check that beat runs; "
                "docs/scaling.md says how to move the rows."
            )
            % values
        )
    staff_alert(
        key=f"partitions-default:{table_name}:{now.date().isoformat()}",
        kind=Kind.OPS_PARTITIONS,
        subject=subject,
        body=body,
    )
