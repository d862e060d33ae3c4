"""The polling engine: statuses of everything sent upstream, 100 ids per call, several calls in
flight, chunks claimed under a lease (leases.py) and written as they are answered (writes.py)."""

import gc
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core.db.leases import Sweep
from core.db.locks import exclusive_transaction
from core.db.session import close_thread_connections, is_in_transaction
from orders.models import (
    DispatchState,
)
from orders.services.polling.leases import after_leased, leased_ids, poll_lease_claim
from orders.services.polling.spec import (
    BATCH_SIZE,
    CHUNK_SIZE,
    CLAIMED_FIELDS,
    LEASE,
    MAX_IDLE,
    MISS_LIMIT,
    PIPELINE_DEPTH,
    PollCounts,
    PollSpec,
    PollTimings,
    _BatchFailure,
    poll_delay,
)
from orders.services.polling.writes import _apply, _without_waiting_for_disk
from providers.client import (
    ProviderClient,
)
from providers.errors import ProviderAuthError, ProviderError
from providers.models import Provider
from providers.services import (
    provider_client,
)

# Shared with writes.py and kinds.py, and read from here by callers and tests.
__all__ = [
    "BATCH_SIZE",
    "CHUNK_SIZE",
    "CLAIMED_FIELDS",
    "LEASE",
    "MAX_IDLE",
    "MISS_LIMIT",
    "PollCounts",
    "PollSpec",
    "PollTimings",
    "_apply",
    "_claim_due",
    "_fetch",
    "poll",
    "poll_concurrency",
    "poll_delay",
]


def _due_count(spec: PollSpec, provider_id: int, now: datetime, up_to: int) -> int:
    """How many rows of the kind are due at the provider, counted up to `up_to` (on the
    due-for-poll index); leased ones too, so it may overcount, never undercount. Unordered:
    under the model's newest-first ordering the planner walked every partition's primary key
    backwards past all the finished orders (seconds at a few million orders, every round)."""
    return (
        spec.model.objects.filter(
            spec.due,
            provider_id=provider_id,
            dispatch_state=DispatchState.SENT,
            next_poll_at__lte=now,
        )
        .order_by()
        .values("pk")[:up_to]
        .count()
    )


def _due_rows(
    spec: PollSpec,
    provider_id: int,
    now: datetime,
    limit: int,
    *,
    sweep: Sweep | None,
    upstream_ids: list[str] | None = None,
    due_by: datetime | None = None,
) -> QuerySet:
    """What a claim reads (see `_claim_due`): a sweep's due rows after those its provider's
    live leases hold, or the rows named by `upstream_ids`; never a leased one."""
    due = spec.model.objects.filter(
        spec.due, provider_id=provider_id, dispatch_state=DispatchState.SENT
    )
    if sweep is None:
        due = due.filter(upstream_id__in=upstream_ids or [])
    else:
        due = due.filter(after_leased(spec.model, sweep, now), next_poll_at__lte=due_by or now)
    return (
        due.exclude(pk__in=leased_ids(spec.model, now, named_only=sweep is not None))
        .order_by("next_poll_at", "pk")
        .values(*CLAIMED_FIELDS, *spec.fields, **spec.computed)[:limit]
    )


def _claim_due(
    spec: PollSpec,
    provider_id: int,
    now: datetime,
    limit: int,
    holder: str | None = None,
    upstream_ids: list[str] | None = None,
    due_by: datetime | None = None,
) -> tuple[list[dict], int | None]:
    """Due rows no other poller holds, and the id of the lease that now holds them (see
    leases.py). The rows themselves are only read: a claim that updated them would write a
    new version of each wide row, with its many index entries, only to write it again when
    the answer comes. `holder` (the name of the lock the round holds) lets the lock's next
    holder delete the lease if this round dies. `upstream_ids` claims those rows whether due
    or not (an upstream's webhook said they changed: polling/hints.py). `due_by` (a round's
    start) leaves out rows that came due after it: those the round itself wrote, among them."""
    sweep = Sweep(scope=provider_id, at="next_poll_at") if upstream_ids is None else None
    due = _due_rows(
        spec, provider_id, now, limit, sweep=sweep, upstream_ids=upstream_ids, due_by=due_by
    )
    with exclusive_transaction(f"poll-claim:{spec.model.__name__}:{provider_id}"):
        _without_waiting_for_disk()
        claim = poll_lease_claim(due, holder=holder or "", until=now + LEASE, sweep=sweep)
    return claim.rows, claim.lease_id


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

    A round is one sweep of the rows due when it starts, each polled once: a row it writes, or
    one that comes due meanwhile, waits for the next round. A round longer than the poll
    interval (a million live orders on a small machine) would otherwise poll its first rows
    again before reaching its last ones.

    Any number of pollers may run this for one provider at once (in other workers, on other
    machines): each claims its own chunks (SKIP LOCKED, under a lease), so a row is polled by
    one of them only. Within one poller, `lanes` threads do the same side by side, each on its
    own database connection, so that the database works on one lane's statements while Python
    works on another's."""
    started_at = timezone.now()
    due = _due_count(spec, provider.pk, started_at, up_to=CHUNK_SIZE + 1)
    if not due:
        # Most providers have nothing due of most kinds (a child panel's provider, a kind it
        # does not sell): no threads, no lane connections (docs/child-panels.md).
        return PollCounts()
    client = provider_client(provider)
    concurrency = concurrency or poll_concurrency(provider)
    # Other connections cannot see the rows of a transaction the caller holds open; one chunk
    # is one lane's work, and a second lane would only open a connection to find nothing.
    single = is_in_transaction() or due <= CHUNK_SIZE
    lanes = 1 if single else (lanes or settings.PANEL_POLL_LANES)
    # Enough chunks in flight to keep every call slot busy while the oldest chunk is written.
    depth = max(PIPELINE_DEPTH, -(-concurrency * BATCH_SIZE // (CHUNK_SIZE * lanes)) + 1)
    deadline = time.monotonic() + max_seconds
    refused = threading.Event()  # the provider refused the panel's key: no lane claims more
    with (
        _older_objects_frozen(),
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="poll") as pool,
    ):
        lane = partial(
            _poll_lane, spec, provider, client, pool, depth, deadline, refused, holder, started_at
        )
        if lanes == 1:
            return lane()
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="poll-lane") as lane_pool:
            results = [lane_pool.submit(_in_own_connection, lane) for _ in range(lanes)]
            total = PollCounts()
            for result in results:
                total.add(result.result())
    return total


# Young objects the collector lets pile up during a round before it looks for cycles. A round
# frees nearly everything it allocates by reference counting, so at the usual threshold the
# collector's frequent young passes found almost nothing to free (docs/performance.md).
ROUND_GC_THRESHOLD = 100_000


class _RoundCollector:
    """The collector's settings while rounds run in this process, shared by every thread: the
    first round in changes them and the last one out puts them back, once. Rounds that overlap
    (two poll tasks on a threads pool) would otherwise undo each other: the later one saved the
    thresholds the earlier had raised and put those back at its end, raised for good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rounds = 0
        self._thresholds = gc.get_threshold()
        self._is_freeze_ours = False

    def enter(self) -> None:
        with self._lock:
            self._rounds += 1
            if self._rounds > 1:
                return
            self._thresholds = gc.get_threshold()
            # A freeze made by someone else (a boot-time freeze) is its owner's to thaw.
            self._is_freeze_ours = not gc.get_freeze_count()
            if self._is_freeze_ours:
                gc.freeze()
            first, *older = self._thresholds
            gc.set_threshold(max(first, ROUND_GC_THRESHOLD), *older)

    def leave(self) -> None:
        with self._lock:
            self._rounds -= 1
            if self._rounds:
                return
            gc.set_threshold(*self._thresholds)
            if self._is_freeze_ours:
                gc.unfreeze()


_collector = _RoundCollector()


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist before a round out of the collector's full passes, and let
    young objects pile up longer before a pass.

    A round allocates millions of small objects, which trigger a dozen full collections; each
    walked every object of the process (Django, the apps, their caches) although none of them
    is garbage made by the round: a sizeable share of a large round's CPU
    (docs/performance.md). Frozen objects are only skipped, never lost: they go back to the
    oldest generation when the process's last running round ends, and any garbage among them
    is collected then; the collector's thresholds are restored as they were then too."""
    _collector.enter()
    try:
        yield
    finally:
        _collector.leave()


def _in_own_connection(lane: Callable[[], PollCounts]) -> PollCounts:
    try:
        return lane()
    finally:
        close_thread_connections()  # the lane thread ends here


def _poll_lane(
    spec: PollSpec,
    provider: Provider,
    client: ProviderClient,
    pool: ThreadPoolExecutor,
    depth: int,
    deadline: float,
    refused: threading.Event,
    holder: str | None,
    due_by: datetime,
) -> PollCounts:
    """Claim chunks, fetch them in `pool` (`depth` chunks ahead), write each as it is answered."""
    total = PollCounts()
    in_flight: deque[tuple[list[dict], int | None, list[Future]]] = deque()
    claiming = True
    while True:
        if claiming and time.monotonic() < deadline and not refused.is_set():
            started = time.perf_counter()
            rows, lease_id = _claim_due(
                spec, provider.pk, timezone.now(), CHUNK_SIZE, holder, due_by=due_by
            )
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
