"""Leases: which rows a poller has claimed and is waiting on the provider for.

A claim reads due rows and records their ids in one `PollLease` row; it writes nothing to the
rows themselves. Claims of one kind at one provider run one at a time (core.db.locks
.exclusive_transaction), and each skips the ids of live leases, so no two pollers take the
same row. The poll's write deletes its lease in the transaction that writes the rows.

A round that dies leaves its leases behind. Its rows are still due (nothing pushed them
ahead), but claims skip them until the leases end; the next holder of the round's lock
deletes them first (`poll_leases_release`), so they are polled again at once.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Expression, Model, QuerySet
from django.utils import timezone

from core.db import leases as db_leases
from orders.models import PollLease


def poll_lease_claim(
    due: QuerySet, *, holder: str, until: datetime, sweep: db_leases.Sweep | None = None
) -> db_leases.Claim:
    """The rows of `due` (a `.values()` queryset) and the id of a new lease on them (None when
    there are none), read and written in one statement. Called inside the claim's transaction,
    so the lease commits with it. A round's sweep (`sweep`) records where it has claimed up to
    (`after_leased`)."""
    return db_leases.claim_with_lease(
        due, leases=PollLease, holder=holder, until=until, sweep=sweep
    )


def after_leased(model: type[Model], sweep: db_leases.Sweep, now: datetime) -> Expression:
    """A sweep's claim starts after the rows its scope's live leases hold (core.db.leases)."""
    return db_leases.after_leased(leases=PollLease, model=model, sweep=sweep, now=now)


def poll_lease_end(lease_id: int | None) -> None:
    """Called inside the transaction that writes the leased rows."""
    if lease_id is not None:
        PollLease.objects.filter(pk=lease_id).delete()


def leased_ids(model: type[Model], now: datetime, *, named_only: bool = False) -> Expression:
    """The ids under a live lease of `model`, as a subquery for `.exclude(pk__in=…)`; with
    `named_only`, those of claims of named rows only (see core.db.leases)."""
    return db_leases.leased_ids(leases=PollLease, model=model, now=now, named_only=named_only)


def poll_leases_release(*, holder: str) -> int:
    """Delete the leases `holder`'s earlier rounds left (their rows become claimable at once),
    and any lease that has ended; returns how many rows the holder's leases held. Call it only
    while holding the lock named `holder`."""
    with transaction.atomic():
        mine = list(PollLease.objects.filter(holder=holder).values_list("pk", "ids"))
        PollLease.objects.filter(pk__in=[pk for pk, _ in mine]).delete()
        PollLease.objects.filter(until__lte=timezone.now()).delete()
    return sum(len(ids) for _, ids in mine)
