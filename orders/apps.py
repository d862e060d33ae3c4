from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _partitions_prepare_after_migrate(
    sender: AppConfig, using: str, plan: list | None = None, apps: Any = None, **kwargs: Any
) -> None:
    """Prepare the months as beat does, once `migrate` is done. Beat's hourly job first runs an
    hour after beat starts: until then a new install had no month marked for its product
    orders, refills and deposits, whose ledger rows then went to month 0, and every period
    lookup of theirs read the registry again. Not after `flush` (no plan), a migration taken
    back, or a history stopped short of the partitioned tables."""
    if plan is None or using != DEFAULT_DB_ALIAS or any(backwards for _, backwards in plan):
        return
    try:
        # Made by orders 0014, which partitioned the orders after accounts 0021 the ledger.
        apps.get_model("orders", "OrderClientRef")
    except LookupError:
        return
    from orders.partitions import partitions_prepare_all

    partitions_prepare_all()


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
