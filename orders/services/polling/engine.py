"""The polling engine: statuses of everything sent upstream, 100 ids per call, several calls in flight, only
changed rows written, and refunds applied through the ledger exactly once."""

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Model, Q
from django.utils import timezone

from accounts.services import balance_credit_many
from core.bulk import bulk_insert_values, bulk_update_values
from core.locks import exclusive_transaction
from core.money import ZERO
from core.pipeline import pipelined
from orders.lifecycle import (
    FINAL_BY_KIND,
    By,
    Kind,
    PollStep,
    Reason,
    Seen,
    dispatch_move,
    poll_step,
)
from orders.lifecycle.events import Actor
from orders.models import (
    DispatchState,
    Order,
    OrderEvent,
    ProductOrder,
    Refill,
)
from orders.notify import notify_finished
from orders.services.polling.leases import leased_ids, poll_lease_end, poll_lease_record
from providers.client import (
    ItemError,
    ProviderClient,
)
from providers.errors import ProviderAuthError, ProviderError
from providers.models import Provider
from providers.services import (
    provider_client,
    provider_mark_credentials_failed,
    provider_record_error,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # the protocol's limit per status call
CHUNK_SIZE = 1000  # rows claimed and written together
PIPELINE_DEPTH = 2  # at least this many chunks in flight while one is written
# A claimed row is not claimed again before this, unless its round's lock is taken over.
LEASE = timedelta(minutes=5)
MISS_LIMIT = (
    5  # "Incorrect order ID" this many times in a row: the provider lost it, a person looks
)
MAX_IDLE = 10
# What every claimed row carries besides its kind's own fields.
CLAIMED_FIELDS = ("id", "upstream_id", "user_id", "poll_idle_count", "poll_miss_count")


def poll_delay(idle_count: int) -> timedelta:
    seconds = settings.PANEL_POLL_INTERVAL_SECONDS * 2 ** min(idle_count, MAX_IDLE)
    return timedelta(seconds=min(seconds, settings.PANEL_POLL_MAX_INTERVAL_SECONDS))


@dataclass
class PollTimings:
    """Where a poll's time went, in seconds. `http_wait` and `client_cpu` are summed over the
    fetching threads, which overlap one another and the polling thread; the rest is the
    polling thread's own: claiming rows, comparing answers, writing changes, crediting refunds."""

    claim: float = 0.0
    http_wait: float = 0.0
    client_cpu: float = 0.0
    compare: float = 0.0
    write: float = 0.0
    refunds: float = 0.0

    def __add__(self, other: "PollTimings") -> "PollTimings":
        return PollTimings(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )


@dataclass
class PollCounts:
    polled: int = 0
    changed: int = 0
    finalized: int = 0
    refunded: Decimal = ZERO
    missing: int = 0
    unreachable: int = 0
    calls: int = 0
    timings: PollTimings = field(default_factory=PollTimings)

    def __str__(self) -> str:
        text = f"{self.polled} polled, {self.changed} changed, {self.finalized} finished"
        if self.refunded:
            text += f", {self.refunded.normalize():f} refunded"
        if self.missing or self.unreachable:
            text += f", {self.missing} unknown upstream, {self.unreachable} unreachable"
        return text

    def add(self, other: "PollCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _BatchFailure:
    error: ProviderError


_Ids = set[int]
# What a row must still hold for a chunk's write to apply to it: what the poll read at the claim
# (and still being sent, not handed to a person meanwhile).
_GUARDED = ("status", "refunded")


@dataclass
class _Changes:
    """The new values of the rows one chunk moves, written in one statement."""

    rows: dict[int, dict[str, object]] = field(default_factory=lambda: defaultdict(dict))

    def set(self, pk: int, name: str, value: object) -> None:
        self.rows[pk][name] = value

    def idle(self, pk: int, idle_count: int, now: datetime) -> None:
        """A row that did not move: polled again later, the longer it stays still."""
        self.rows[pk].update(
            next_poll_at=now + poll_delay(idle_count),
            poll_idle_count=idle_count,
            poll_miss_count=0,
        )

    def write(self, model: type[Model], claimed: list[dict], final: frozenset[str]) -> "_Ids":
        """Write the rows still as they were claimed (see _write_changes); their ids."""
        guarded = [name for name in _GUARDED if name in claimed[0]] if claimed else []
        guard = {
            row["id"]: {"dispatch_state": DispatchState.SENT, **{n: row[n] for n in guarded}}
            for row in claimed
            if row["id"] in self.rows and row["status"] not in final
        }
        return bulk_update_values(model, {pk: self.rows[pk] for pk in guard}, guard=guard)


@dataclass(frozen=True)
class PollSpec:
    kind: Kind
    model: type[Order] | type[Refill] | type[ProductOrder]
    due: Q  # the same condition as the model's partial "due for poll" index, so the claim uses it
    fields: tuple[str, ...]
    fetch: Callable[[ProviderClient, Sequence[str]], dict[str, Any]]
    observe: Callable[[Any], Seen]  # an upstream answer -> what it says

    @property
    def final_statuses(self) -> frozenset[str]:
        return FINAL_BY_KIND[self.kind]


def _without_waiting_for_disk() -> None:
    """Let this transaction's commit return before its WAL reaches the disk.

    Safe for polling alone: what a poll writes is re-derived from the provider, and a crash of
    the database loses its last few hundred milliseconds of commits whole (leases, moves and
    their refunds together, never a part), so those rows are simply polled again. It spares
    each chunk two flushes, and the users' rows are unlocked that much sooner."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim_due(
    spec: PollSpec, provider_id: int, now: datetime, limit: int, holder: str | None = None
) -> tuple[list[dict], int | None]:
    """Due rows no other poller holds, and the id of the lease that now holds them (see
    leases.py). The rows themselves are only read: a claim that updated them would write a
    new version of each wide row, with its many index entries, only to write it again when
    the answer comes. `holder` (the name of the lock the round holds) lets the lock's next
    holder delete the lease if this round dies."""
    with exclusive_transaction(f"poll-claim:{spec.model.__name__}:{provider_id}"):
        _without_waiting_for_disk()
        rows = list(
            spec.model.objects.filter(
                spec.due,
                provider_id=provider_id,
                dispatch_state=DispatchState.SENT,
                next_poll_at__lte=now,
            )
            .exclude(pk__in=leased_ids(spec.model, now))
            .order_by("next_poll_at")
            .values(*CLAIMED_FIELDS, *spec.fields)[:limit]
        )
        if not rows:
            return rows, None
        lease = poll_lease_record(
            holder=holder or "",
            model=spec.model,
            until=now + LEASE,
            ids=[row["id"] for row in rows],
        )
    return rows, lease.pk


def _fetch(spec: PollSpec, client: ProviderClient, rows: list[dict]) -> dict[str, Any]:
    ids = [row["upstream_id"] for row in rows]
    try:
        return spec.fetch(client, ids)
    except ProviderError as exc:
        return dict.fromkeys(ids, _BatchFailure(exc))


def _timed_fetch(
    spec: PollSpec, client: ProviderClient, rows: list[dict]
) -> tuple[dict[str, Any], PollTimings]:
    """`_fetch` in a pool thread, split into the thread's own CPU (building the request,
    reading, decoding and parsing the answer) and the rest (waiting on the provider)."""
    started, cpu_started = time.perf_counter(), time.thread_time()
    answers = _fetch(spec, client, rows)
    cpu = time.thread_time() - cpu_started
    return answers, PollTimings(http_wait=time.perf_counter() - started - cpu, client_cpu=cpu)


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
        _without_waiting_for_disk()
        if changed:
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
    for row in rows:
        if (step := steps.get(row["id"])) is not None:
            for name, value in step.columns.items():
                changes.set(row["id"], name, value)
            for name, value in (
                ("next_poll_at", now + poll_delay(0)),
                ("poll_idle_count", 0),
                ("poll_miss_count", 0),
                ("updated_at", now),
            ):
                changes.set(row["id"], name, value)
    written = changes.write(spec.model, rows, spec.final_statuses)
    moved = [row for row in rows if row["id"] in steps and row["id"] in written]
    notify_finished(spec.model, moved, changes.rows)
    credits = [credit for row in moved for credit in steps[row["id"]].credits]
    events = [event for row in moved for event in steps[row["id"]].events]
    bulk_insert_values(OrderEvent, [{**event, "created_at": now} for event in events])
    # Last before the commit: the users' rows stay locked for as short a time as possible, as
    # other lanes and pollers credit the same users.
    started = time.perf_counter()
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
            message=f"The provider keeps answering {answer} for upstream id {row['upstream_id']}",
            poll_miss_count=misses,
            dispatch_error=f"{answer} ({misses} polls)"[:500],
        )
    return len(rows)


def _record_failure(provider: Provider, error: ProviderError) -> None:
    if isinstance(error, ProviderAuthError):
        provider_mark_credentials_failed(provider=provider, message=error.message)
    else:
        provider_record_error(provider=provider, message=error.message)


def poll_concurrency(provider: Provider, *, shares: int = 1) -> int:
    """Status calls one poller keeps in flight: the provider's limit (or the panel's default),
    split evenly between the `shares` pollers that work on the provider's round together."""
    limit = provider.poll_concurrency or settings.PANEL_POLL_CONCURRENCY
    return max(limit // max(shares, 1), 1)


def poll(
    spec: PollSpec,
    provider: Provider,
    *,
    max_seconds: float = 90.0,
    concurrency: int | None = None,
    lanes: int | None = None,
    holder: str | None = None,
) -> PollCounts:
    """Poll every due row of one kind at one provider, keeping `concurrency` calls in flight
    while earlier chunks are written. Stops claiming after `max_seconds` (the rest waits for
    the next round) and when the provider refuses the panel's key.

    Any number of pollers may run this for one provider at once (in other workers, on other
    machines): each claims its own chunks (SKIP LOCKED, under a lease), so a row is polled by
    one of them only. Within one poller, `lanes` threads do the same side by side, each on its
    own database connection, so that the database works on one lane's statements while Python
    works on another's."""
    client = provider_client(provider)
    concurrency = concurrency or poll_concurrency(provider)
    # Other connections cannot see the rows of a transaction the caller holds open.
    lanes = 1 if connection.in_atomic_block else (lanes or settings.PANEL_POLL_LANES)
    # Enough chunks in flight to keep every call slot busy while the oldest chunk is written.
    depth = max(PIPELINE_DEPTH, -(-concurrency * BATCH_SIZE // (CHUNK_SIZE * lanes)) + 1)
    deadline = time.monotonic() + max_seconds
    refused = threading.Event()  # the provider refused the panel's key: no lane claims more
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="poll") as pool:
        lane = partial(_poll_lane, spec, provider, client, pool, depth, deadline, refused, holder)
        if lanes == 1:
            return lane()
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="poll-lane") as lane_pool:
            results = [lane_pool.submit(_in_own_connection, lane) for _ in range(lanes)]
            total = PollCounts()
            for result in results:
                total.add(result.result())
    return total


def _in_own_connection(lane: Callable[[], PollCounts]) -> PollCounts:
    try:
        return lane()
    finally:
        connections.close_all()  # this thread's connections only: the lane thread ends here


def _poll_lane(
    spec: PollSpec,
    provider: Provider,
    client: ProviderClient,
    pool: ThreadPoolExecutor,
    depth: int,
    deadline: float,
    refused: threading.Event,
    holder: str | None,
) -> PollCounts:
    """Claim chunks, fetch them in `pool` (`depth` chunks ahead), write each as it is answered."""
    total = PollCounts()
    in_flight: deque[tuple[list[dict], int | None, list[Future]]] = deque()
    claiming = True
    while True:
        if claiming and time.monotonic() < deadline and not refused.is_set():
            started = time.perf_counter()
            rows, lease_id = _claim_due(spec, provider.pk, timezone.now(), CHUNK_SIZE, holder)
            total.timings.claim += time.perf_counter() - started
            if rows:
                batches = [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
                futures = [pool.submit(_timed_fetch, spec, client, batch) for batch in batches]
                in_flight.append((rows, lease_id, futures))
            claiming = bool(rows)
        else:
            claiming = False
        if not in_flight:
            return total
        if claiming and len(in_flight) < depth:
            continue
        rows, lease_id, futures = in_flight.popleft()
        answers: dict[str, Any] = {}
        for future in futures:
            batch_answers, fetch_timings = future.result()
            answers.update(batch_answers)
            total.timings += fetch_timings
        if any(
            isinstance(a, _BatchFailure) and isinstance(a.error, ProviderAuthError)
            for a in answers.values()
        ):
            refused.set()
        total.add(_apply(spec, provider, rows, answers, lease_id))
