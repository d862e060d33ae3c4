"""Polling: statuses of everything sent upstream, 100 ids per call, several calls in flight, only
changed rows written, and refunds applied through the ledger exactly once."""

import time

from orders.services.polling.engine import (
    BATCH_SIZE,
    CHUNK_SIZE,
    CLAIMED_FIELDS,
    MISS_LIMIT,
    PollCounts,
    PollSpec,
    _apply,
    _fetch,
    poll,
    poll_concurrency,
    poll_delay,
)
from orders.services.polling.kinds import ORDERS, PRODUCT_ORDERS, REFILLS
from providers.models import Provider

__all__ = [
    "BATCH_SIZE",
    "CHUNK_SIZE",
    "CLAIMED_FIELDS",
    "MISS_LIMIT",
    "ORDERS",
    "PRODUCT_ORDERS",
    "REFILLS",
    "PollCounts",
    "PollSpec",
    "_apply",
    "_fetch",
    "poll",
    "poll_concurrency",
    "poll_delay",
    "provider_poll",
]


def provider_poll(
    *, provider: Provider, max_seconds: float = 90.0, shares: int = 1, holder: str | None = None
) -> dict[str, PollCounts]:
    """One poll round at one provider: orders, then refills, then product orders, within one
    time budget (under the task's soft time limit); what is left waits for the next round.
    `shares` pollers may run this together, each with its share of the provider's calls."""
    deadline = time.monotonic() + max_seconds
    concurrency = poll_concurrency(provider, shares=shares)
    results = {}
    for name, spec in (
        ("orders", ORDERS),
        ("refills", REFILLS),
        ("product_orders", PRODUCT_ORDERS),
    ):
        results[name] = poll(
            spec,
            provider,
            max_seconds=max(deadline - time.monotonic(), 0.0),
            concurrency=concurrency,
            holder=holder,
        )
    return results
