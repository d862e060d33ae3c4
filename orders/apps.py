import sys
from typing import Any, TextIO

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


def _partitions_prepare_after_migrate(
    sender: AppConfig,
    using: str,
    plan: list | None = None,
    apps: Any = None,
    verbosity: int = 1,
    stdout: TextIO | None = None,
    **kwargs: Any,
) -> None:
    """Prepare the months as beat does, once `migrate` is done. Beat's hourly job first runs an
    hour after beat starts: until then a new install had no month marked for its product
    orders, refills and deposits, whose ledger rows then went to month 0, and every period
    lookup of theirs read the registry again. Not after `flush` (no plan), a migration taken
    back, or a history stopped short of the partitioned tables; and beat's job is left to do it
    when the tables are not partitioned in fact (a `migrate --fake`), or when another holds the
    months (an archive of old months may hold them for long: migrate does not wait). A DEFAULT
    partition that holds rows is said here, not alerted: beat's job alerts the operators."""
    if plan is None or using != DEFAULT_DB_ALIAS or any(backwards for _, backwards in plan):
        return
    try:
        # Made by orders 0014, which partitioned the orders after accounts 0021 the ledger.
        apps.get_model("orders", "OrderClientRef")
    except LookupError:
        return
    from core.db.partitions import PartitionsBusy
    from orders.partitions import partitions_prepare_all, partitions_ready

    out = stdout or sys.stdout

    def say(text: str) -> None:
        out.write(f"{text}\n")  # a command's OutputWrapper adds no second line end

    if not partitions_ready():
        if verbosity >= 1:
            say(
                gettext(
                    "Months not prepared: the orders, their events and the ledger are not "
                    "partitioned in this database (migrations faked?). Beat's hourly job "
                    "prepares them once they are."
                )
            )
        return
    try:
        prepared = partitions_prepare_all(wait=False, alert=False)
    except PartitionsBusy:
        say(
            gettext(
                "Months not prepared: another job holds them (an archive of old months, or "
                "beat's own run). Beat's hourly job prepares them."
            )
        )
        return
    if prepared.default_rows:
        tables = ", ".join(prepared.default_rows)
        say(
            ngettext(
                "The DEFAULT partition of %(tables)s holds rows: beat's hourly job alerts the "
                "operators; docs/scaling.md says how to move them.",
                "The DEFAULT partitions of %(tables)s hold rows: beat's hourly job alerts the "
                "operators; docs/scaling.md says how to move them.",
                len(prepared.default_rows),
            )
            % {"tables": tables}
        )
    elif prepared.created and verbosity >= 1:
        say(
            gettext("Months prepared: %(partitions)s.")
            % {"partitions": ", ".join(prepared.created)}
        )


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Registers the tasks in every process, the web's too: the services publish forwards by
        # task name (orders.enqueue.forward_task) instead of importing this module.
        from orders import memos, tasks  # noqa: F401  (memos: the codes, core.memos)
        from orders.partitions import period_subjects_register

        # Before any ledger row or event is written: their month follows these tables' ids.
        period_subjects_register()
        # A new install's months, made as `migrate` ends rather than at beat's first hourly run.
        post_migrate.connect(
            _partitions_prepare_after_migrate, sender=self, dispatch_uid="orders-months-prepare"
        )
