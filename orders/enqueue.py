"""Queueing Celery tasks after commit, so that a broker outage never undoes a committed order.

The row is committed before the task is published. If publishing fails (broker down), the
failure is logged and the row stays `queued`: the dispatch sweeper (a beat task) forwards it
once the broker is back. Raising instead would answer 500 for an order that was charged, and a
client retrying without `client_ref` would buy it twice.
"""

import logging
from typing import Literal

from django.db import transaction

logger = logging.getLogger(__name__)

TaskName = Literal[
    "order_forward_task",
    "product_order_forward_task",
    "refill_forward_task",
    "cancel_forward_task",
]


def enqueue(task_name: TaskName, pk: int) -> None:
    """Publish `task_name(pk)` once the current transaction commits; never raises for the broker."""

    def publish() -> None:
        from orders import tasks  # tasks import services: imported here, not at module level

        getattr(tasks, task_name).delay(pk)

    # robust=True: an exception in `publish` is logged by Django and swallowed.
    transaction.on_commit(publish, robust=True)
