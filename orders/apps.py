from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


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
