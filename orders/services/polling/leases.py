"""Leases: which rows a poller has claimed and is waiting on the provider for.

A claim reads due rows and records their ids in one `PollLease` row; it writes nothing to the
rows themselves. Claims of one kind at one provider run one at a time (core.locks
.exclusive_transaction), and each skips the ids of live leases, so no two pollers take the
same row. The poll's write deletes its lease in the transaction that writes the rows.

A round that dies leaves its leases behind. Its rows are still due (nothing pushed them
ahead), but claims skip them until the leases end; the next holder of the round's lock
deletes them first (`poll_leases_release`), so they are polled again at once.
"""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.expressions import RawSQL
from django.utils import timezone

from orders.models import PollLease


def poll_lease_record(
    *, holder: str, model: type[Model], until: datetime, ids: list[int]
) -> PollLease:
    """Called inside the claim's transaction, so the lease commits with the claim."""
    return PollLease.objects.create(holder=holder, model=model.__name__, until=until, ids=ids)


def poll_lease_end(lease_id: int | None) -> None:
    """Called inside the transaction that writes the leased rows."""
    if lease_id is not None:
        PollLease.objects.filter(pk=lease_id).delete()


def leased_ids(model: type[Model], now: datetime) -> RawSQL:
    """The ids under a live lease of `model`, as a subquery for `.exclude(pk__in=…)`: the
    database hashes it once per claim instead of the claim sending the ids back and forth."""
    table = PollLease._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f'SELECT (jsonb_array_elements_text("ids"))::bigint FROM "{table}" '  # noqa: S608 - names come from the model
            'WHERE "model" = %s AND "until" > %s'
        )
    else:
        sql = (
            f'SELECT CAST(j.value AS INTEGER) FROM "{table}", json_each("{table}"."ids") AS j '  # noqa: S608
            'WHERE "model" = %s AND "until" > %s'
        )
    return RawSQL(sql, [model.__name__, now])  # noqa: S611 - values are parameters


def poll_leases_release(*, holder: str) -> int:
    """Delete the leases `holder`'s earlier rounds left (their rows become claimable at once),
    and any lease that has ended; returns how many rows the holder's leases held. Call it only
    while holding the lock named `holder`."""
    with transaction.atomic():
        mine = list(PollLease.objects.filter(holder=holder).values_list("pk", "ids"))
        PollLease.objects.filter(pk__in=[pk for pk, _ in mine]).delete()
        PollLease.objects.filter(until__lte=timezone.now()).delete()
    return sum(len(ids) for _, ids in mine)
