"""A chunk's answers written: the rows that moved with their events, outbox rows and refunds,
the idle ones with their next poll time, all in one pipelined transaction that also ends the
chunk's lease. Each refund happens once: the write is guarded by what the row was claimed with."""

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from accounts.services import balance_credit_many
from core.db.bulk import bulk_update_values
from core.db.pipeline import pipelined
from core.db.session import (
    commit_without_waiting_for_disk,
    deferred_checks_now,
    key_checks_planned_once,
)
from core.money import ZERO
from orders.lifecycle import (
    By,
    PollStep,
    Reason,
    dispatch_move,
    poll_step,
)
from orders.lifecycle.events import Actor, events_insert
from orders.memos import KEEPS_ANSWERING
from orders.models import (
    DispatchState,
)
from orders.notify import notify_finished
from orders.services.polling.leases import poll_lease_end
from orders.services.polling.spec import (
    BATCH_SIZE,
    MAX_IDLE,
    MISS_LIMIT,
    PollCounts,
    PollSpec,
    PollTimings,
    _BatchFailure,
    poll_delay,
)
from providers.client import (
    ItemError,
)
from providers.errors import ProviderAuthError, ProviderError
from providers.models import Provider
from providers.services import (
    provider_mark_credentials_failed,
    provider_record_error,
)

# (and still being sent, not handed to a person meanwhile).
_GUARDED = ("status", "refunded")


@dataclass
class _Changes:
    """The new values of the rows one chunk moves, written in one statement."""

    rows: dict[int, dict[str, object]] = field(default_factory=lambda: defaultdict(dict))
    # One object per distinct next poll time: rows sharing a time then share a value, which
    # the bulk write sends once (core.db.bulk), and it is worked out once.
    _next_poll_at: dict[tuple[int, datetime], datetime] = field(default_factory=dict)

    def next_poll_at(self, idle_count: int, now: datetime) -> datetime:
        key = (idle_count, now)
        if (at := self._next_poll_at.get(key)) is None:
            at = self._next_poll_at[key] = now + poll_delay(idle_count)
        return at

    def idle(self, pk: int, idle_count: int, now: datetime) -> None:
        """A row that did not move: polled again later, the longer it stays still."""
        self.rows[pk].update(
            next_poll_at=self.next_poll_at(idle_count, now),
            poll_idle_count=idle_count,
            poll_miss_count=0,
        )

    def write(self, model: type[Model], claimed: list[dict], final: frozenset[str]) -> set[int]:
        """Write the rows still as they were claimed (see _write_changes); their ids."""
        guarded = [name for name in _GUARDED if name in claimed[0]] if claimed else []
        guard: dict[int, dict[str, object]] = {}
        # A loop, not nested comprehensions: those made a function call per row.
        for row in claimed:
            if row["id"] in self.rows and row["status"] not in final:
                values = guard[row["id"]] = {"dispatch_state": DispatchState.SENT}
                for name in guarded:
                    values[name] = row[name]
        return bulk_update_values(model, {pk: self.rows[pk] for pk in guard}, guard=guard)


def _without_waiting_for_disk() -> None:
    """Let this transaction's commit return before its WAL reaches the disk.

    Only for a chunk where no row moved: it writes next poll times and ends its lease, which a
    crash of the database (losing its last few hundred milliseconds of commits whole) merely
    makes the next round poll again. A chunk that moves a row commits durably: a customer may
    read its new status or refund at once (a read flushes nothing), and an answer the panel
    gave must not be taken back by a crash (docs/reliability.md, "Database crashes")."""
    commit_without_waiting_for_disk()


def _apply(
    spec: PollSpec,
    provider: Provider,
    rows: list[dict],
    answers: dict[str, Any],
    lease_id: int | None = None,
) -> PollCounts:
    started = time.perf_counter()
    now = timezone.now()
    counts = PollCounts(polled=len(rows), calls=(len(rows) + BATCH_SIZE - 1) // BATCH_SIZE)
    timings = counts.timings
    # The step each moving row takes, worked out once (it builds the row's events).
    changed: dict[int, PollStep] = {}
    # Rows that did not move get their next poll time in the same statement as the moved ones.
    changes = _Changes()
    missing: list[tuple[dict, str, str]] = []
    failure: ProviderError | None = None
    for row in rows:
        answer = answers.get(row["upstream_id"])
        if answer is None or isinstance(answer, _BatchFailure):
            failure = answer.error if answer else failure
            counts.unreachable += 1
            changes.idle(row["id"], row["poll_idle_count"], now)
            continue
        if isinstance(answer, ItemError):
            missing.append((row, Reason.MISSING_UPSTREAM, answer.message))
            continue
        seen = spec.observe(answer)
        if seen.unknown_status is not None:
            message = f"an unknown status {seen.unknown_status!r}"
            missing.append((row, Reason.UNKNOWN_STATUS, message))
        elif (step := poll_step(spec.kind, row, seen, now)).columns:
            changed[row["id"]] = step
        else:
            changes.idle(row["id"], min(row["poll_idle_count"] + 1, MAX_IDLE), now)
    timings.compare = time.perf_counter() - started
    with transaction.atomic(), pipelined():
        if not changed and not missing:
            _without_waiting_for_disk()
        if changed:
            # A thousand events, each checked against the partitioned orders at the commit.
            key_checks_planned_once()
            moved, finalized, refunded = _write_changes(spec, rows, changed, changes, now, timings)
            counts.changed, counts.finalized, counts.refunded = moved, finalized, refunded
        else:
            changes.write(spec.model, rows, spec.final_statuses)
        counts.missing = _record_missing(spec, missing, now)
        poll_lease_end(lease_id)
    if failure is not None:
        _record_failure(provider, failure)
    timings.write = time.perf_counter() - started - timings.compare - timings.refunds
    return counts


def _write_changes(
    spec: PollSpec,
    rows: list[dict],
    steps: dict[int, PollStep],
    changes: _Changes,
    now: datetime,
    timings: PollTimings,
) -> tuple[int, int, Decimal]:
    """Write a chunk's moves, refunds and events. A row finalised or handed to a person since
    the claim (by an admin, a cancel, a late duplicate of this very answer) is left alone, which
    is what makes each refund happen once: the update is guarded by what the row was claimed
    with, and only the rows it wrote get their refunds, events and notifications."""
    moving = {
        "next_poll_at": changes.next_poll_at(0, now),
        "poll_idle_count": 0,
        "poll_miss_count": 0,
        "updated_at": now,
    }
    for row in rows:
        if (step := steps.get(row["id"])) is not None:
            values = changes.rows[row["id"]]
            values.update(step.columns)
            values.update(moving)
    written = changes.write(spec.model, rows, spec.final_statuses)
    moved = [row for row in rows if row["id"] in steps and row["id"] in written]
    notify_finished(spec.model, moved, changes.rows)
    credits = [credit for row in moved for credit in steps[row["id"]].credits]
    events = [event for row in moved for event in steps[row["id"]].events]
    events_insert(events, same={"created_at": now})
    # Last before the commit: the users' rows stay locked for as short a time as possible, as
    # other lanes and pollers credit the same users.
    started = time.perf_counter()
    if credits:
        deferred_checks_now()
    balance_credit_many(credits=credits)
    timings.refunds = time.perf_counter() - started
    finalized = sum(steps[row["id"]].is_finished for row in moved)
    return len(moved), finalized, sum((credit.amount for credit in credits), ZERO)


def _record_missing(spec: PollSpec, rows: list[tuple[dict, str, str]], now: datetime) -> int:
    """Rows the provider answers with an error or a status nobody knows: polled again a few
    times (a glitch passes), then handed to a person instead of being polled forever. The
    same MISS_LIMIT for every kind: orders, refills and product orders."""
    for row, reason, answer in rows:
        misses = row["poll_miss_count"] + 1
        if misses < MISS_LIMIT:
            spec.model.objects.filter(pk=row["id"]).update(
                poll_miss_count=misses, next_poll_at=now + poll_delay(row["poll_idle_count"])
            )
            continue
        dispatch_move(
            spec.kind,
            row["id"],
            from_state=DispatchState.SENT,
            to_state=DispatchState.NEEDS_REVIEW,
            actor=By(Actor.POLLER),
            reason=reason,
            message=KEEPS_ANSWERING(answer=answer, upstream_id=row["upstream_id"]),
            poll_miss_count=misses,
            dispatch_error=f"{answer} ({misses} polls)"[:500],
        )
    return len(rows)


def _record_failure(provider: Provider, error: ProviderError) -> None:
    if isinstance(error, ProviderAuthError):
        provider_mark_credentials_failed(provider=provider, message=error.message)
    else:
        provider_record_error(provider=provider, message=error.message)
