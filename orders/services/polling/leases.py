"""Leases that die with the poll round that took them.

Rows are claimed by pushing `next_poll_at` a lease ahead. Each claim also writes a `PollLease`
row naming the round's lock (the round holds it for as long as it lives: core.locks). The next
round under the same lock runs `poll_leases_release` first: whatever leases the lock's previous
holder left behind belong to a round that is gone, so their rows are made due at once. Rows a
round already answered carry their new schedule, not the lease's time, and are not touched.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from orders.models import DispatchState, Order, PollLease, ProductOrder, Refill

MODELS: dict[str, type[Model]] = {model.__name__: model for model in (Order, Refill, ProductOrder)}


def poll_lease_record(*, holder: str, model: type[Model], until: datetime) -> None:
    """Called inside the claim's transaction, so the lease and its record commit together."""
    PollLease.objects.create(holder=holder, model=model.__name__, until=until)


def poll_leases_release(*, holder: str) -> int:
    """Make the rows that `holder`'s earlier rounds leased and never answered due now; returns
    how many. Call it only while holding the lock named `holder`."""
    with transaction.atomic():
        leases = list(PollLease.objects.select_for_update().filter(holder=holder))
        untils: dict[str, list[datetime]] = defaultdict(list)
        for lease in leases:
            untils[lease.model].append(lease.until)
        released = 0
        now = timezone.now()
        for name, times in untils.items():
            released += (
                MODELS[name]
                ._default_manager.filter(dispatch_state=DispatchState.SENT, next_poll_at__in=times)
                .update(next_poll_at=now)
            )
        PollLease.objects.filter(pk__in=[lease.pk for lease in leases]).delete()
    return released
