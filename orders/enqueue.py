"""Queueing Celery tasks after commit, so that a broker outage never undoes a committed order.

The row is committed before the task is published. If publishing fails (broker down), the
failure is logged and the row stays `queued`: the dispatch sweeper (a beat task) forwards it
once the broker is back. Raising instead would answer 500 for an order that was charged, and a
client retrying without `client_ref` would buy it twice.
"""

import logging
from typing import Any, Literal

from celery import Task, current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

TaskName = Literal[
    "order_forward_task",
    "product_order_forward_task",
    "refill_forward_task",
    "cancel_forward_task",
]


def forward_task(task_name: TaskName) -> "Task[Any, Any]":
    """The forward task called `task_name`, looked up by name in the Celery app.

    By name, not by importing `orders.tasks`: the tasks import the services, so the services
    reach the tasks through the app's registry and imports run one way (the import contract in
    pyproject.toml). OrdersConfig.ready() imports the tasks, so every process has them."""
    return current_app.tasks[f"orders.tasks.{task_name}"]


QueueKind = Literal["forward", "poll"]


def provider_queue(kind: QueueKind, provider_id: int) -> str:
    """The queue of one provider's forwards or poll rounds (panel/settings/workers.py declares them):
    a provider that hangs fills its own queue, and the others' tasks never wait behind it."""
    return f"{kind}.{provider_id % settings.PANEL_PROVIDER_QUEUES}"


def forward_publish(task_name: TaskName, pk: int, *, provider_id: int) -> None:
    """Publish `task_name(pk)` now, on the queue of the row's provider."""
    forward_task(task_name).apply_async((pk,), queue=provider_queue("forward", provider_id))


def enqueue(task_name: TaskName, pk: int, *, provider_id: int) -> None:
    """Publish `task_name(pk)` on `provider_id`'s queue once the current transaction commits;
    never raises for the broker."""

    def publish() -> None:
        forward_publish(task_name, pk, provider_id=provider_id)

    # robust=True: an exception in `publish` is logged by Django and swallowed.
    transaction.on_commit(publish, robust=True)
