"""The polling engine: statuses of everything sent upstream, 100 ids per call, several calls in flight, only
changed rows written, and refunds applied through the ledger exactly once."""

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from accounts.services import Credit, balance_credit_many
from core.money import ZERO
from orders.bulk import bulk_insert_values, bulk_update_values
from orders.lifecycle import FINAL_BY_KIND, By, Kind, Reason, Seen, dispatch_move, poll_step
from orders.lifecycle.events import Actor
from orders.models import (
    DispatchState,
    Order,
    OrderEvent,
    ProductOrder,
    Refill,
)
from orders.notify import notify_finished
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
PIPELINE_DEPTH = 2  # chunks in flight while one is written
LEASE = timedelta(
    minutes=5
)  # a claimed row is not claimed again before this, even if its poller died
MISS_LIMIT = (
    5  # "Incorrect order ID" this many times in a row: the provider lost it, a person looks
)
MAX_IDLE = 10


def poll_delay(idle_count: int) -> timedelta:
    seconds = settings.PANEL_POLL_INTERVAL_SECONDS * 2 ** min(idle_count, MAX_IDLE)
    return timedelta(seconds=min(seconds, settings.PANEL_POLL_MAX_INTERVAL_SECONDS))


@dataclass
class PollCounts:
    polled: int = 0
    changed: int = 0
    finalized: int = 0
    refunded: Decimal = ZERO
    missing: int = 0
    unreachable: int = 0
    calls: int = 0

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


@dataclass
class _Changes:
    """The new values of the rows one chunk moves, written in one statement."""

    rows: dict[int, dict[str, object]] = field(default_factory=lambda: defaultdict(dict))

    def set(self, pk: int, name: str, value: object) -> None:
        self.rows[pk][name] = value

    def write(self, model: type[Model]) -> None:
        bulk_update_values(model, self.rows)


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


def _claim_due(spec: PollSpec, provider_id: int, now: datetime, limit: int) -> list[dict]:
    with transaction.atomic():
        rows = list(
            spec.model.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .filter(
                spec.due,
                provider_id=provider_id,
                dispatch_state=DispatchState.SENT,
                next_poll_at__lte=now,
            )
            .order_by("next_poll_at")
            .values(
                "id", "user_id", "upstream_id", "poll_idle_count", "poll_miss_count", *spec.fields
            )[:limit]
        )
        if rows:
            spec.model.objects.filter(pk__in=[row["id"] for row in rows]).update(
                next_poll_at=now + LEASE
            )
    return rows


def _fetch(spec: PollSpec, client: ProviderClient, rows: list[dict]) -> dict[str, Any]:
    ids = [row["upstream_id"] for row in rows]
    try:
        return spec.fetch(client, ids)
    except ProviderError as exc:
        return dict.fromkeys(ids, _BatchFailure(exc))


def _apply(
    spec: PollSpec, provider: Provider, rows: list[dict], answers: dict[str, Any]
) -> PollCounts:
    now = timezone.now()
    counts = PollCounts(polled=len(rows), calls=(len(rows) + BATCH_SIZE - 1) // BATCH_SIZE)
    changed: dict[int, Seen] = {}
    idle: dict[int, list[int]] = defaultdict(list)
    missing: list[tuple[dict, str, str]] = []
    failure: ProviderError | None = None
    for row in rows:
        answer = answers.get(row["upstream_id"])
        if answer is None or isinstance(answer, _BatchFailure):
            failure = answer.error if answer else failure
            counts.unreachable += 1
            idle[row["poll_idle_count"]].append(row["id"])
            continue
        if isinstance(answer, ItemError):
            missing.append((row, Reason.MISSING_UPSTREAM, answer.message))
            continue
        seen = spec.observe(answer)
        if seen.unknown_status is not None:
            message = f"an unknown status {seen.unknown_status!r}"
            missing.append((row, Reason.UNKNOWN_STATUS, message))
        elif poll_step(spec.kind, row, seen, now).columns:
            changed[row["id"]] = seen
        else:
            idle[min(row["poll_idle_count"] + 1, MAX_IDLE)].append(row["id"])
    with transaction.atomic():
        if changed:
            moved, finalized, refunded = _write_changes(spec, changed, now)
            counts.changed, counts.finalized, counts.refunded = moved, finalized, refunded
        for idle_count, pks in idle.items():
            spec.model.objects.filter(pk__in=pks).update(
                next_poll_at=now + poll_delay(idle_count),
                poll_idle_count=idle_count,
                poll_miss_count=0,
            )
        counts.missing = _record_missing(spec, missing, now)
    if failure is not None:
        _record_failure(provider, failure)
    return counts


def _write_changes(
    spec: PollSpec, changed: dict[int, Seen], now: datetime
) -> tuple[int, int, Decimal]:
    # Lock and re-read: a row finalised since the claim (a racing poll, an admin) is left alone,
    # which is what makes each refund happen once.
    # NO KEY UPDATE: foreign-key checks of concurrent inserts (their KEY SHARE locks) do not
    # wait on it. Primary-key order: two pollers meeting on the same rows cannot deadlock.
    locked = list(
        spec.model.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=list(changed), dispatch_state=DispatchState.SENT)
        .exclude(status__in=spec.final_statuses)
        .order_by("pk")
        .values("id", *spec.fields)
    )
    changes = _Changes()
    credits: list[Credit] = []
    events: list[OrderEvent] = []
    finalized = 0
    for row in locked:
        step = poll_step(spec.kind, row, changed[row["id"]], now)
        for name, value in step.columns.items():
            changes.set(row["id"], name, value)
        for name, value in (
            ("next_poll_at", now + poll_delay(0)),
            ("poll_idle_count", 0),
            ("poll_miss_count", 0),
            ("updated_at", now),
        ):
            changes.set(row["id"], name, value)
        credits += step.credits
        events += step.events
        finalized += step.is_finished
    changes.write(spec.model)
    notify_finished(spec.model, locked, changes.rows)
    balance_credit_many(credits=credits)
    bulk_insert_values(OrderEvent, [_event_values(event, now) for event in events])
    return len(locked), finalized, sum((credit.amount for credit in credits), ZERO)


_EVENT_FIELDS = (
    "order_id",
    "product_order_id",
    "refill_id",
    "field",
    "old_value",
    "new_value",
    "message",
    "actor",
    "actor_user_id",
)


def _event_values(event: OrderEvent, now: datetime) -> dict[str, object]:
    return {**{name: getattr(event, name) for name in _EVENT_FIELDS}, "created_at": now}


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


def poll(
    spec: PollSpec, provider: Provider, *, max_seconds: float = 90.0, concurrency: int | None = None
) -> PollCounts:
    """Poll every due row of one kind at one provider, keeping `concurrency` calls in flight
    while earlier chunks are written. Stops claiming after `max_seconds` (the rest waits for
    the next round) and when the provider refuses the panel's key."""
    client = provider_client(provider)
    concurrency = concurrency or settings.PANEL_POLL_CONCURRENCY
    deadline = time.monotonic() + max_seconds
    total = PollCounts()
    in_flight: deque[tuple[list[dict], list[Future]]] = deque()
    claiming = True
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="poll") as pool:
        while True:
            if claiming and time.monotonic() < deadline:
                rows = _claim_due(spec, provider.pk, timezone.now(), CHUNK_SIZE)
                if rows:
                    batches = [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
                    in_flight.append(
                        (rows, [pool.submit(_fetch, spec, client, batch) for batch in batches])
                    )
                claiming = bool(rows)
            else:
                claiming = False
            if not in_flight:
                break
            if claiming and len(in_flight) < PIPELINE_DEPTH:
                continue
            rows, futures = in_flight.popleft()
            answers: dict[str, Any] = {}
            for future in futures:
                answers.update(future.result())
            if any(
                isinstance(a, _BatchFailure) and isinstance(a.error, ProviderAuthError)
                for a in answers.values()
            ):
                claiming = False
            total.add(_apply(spec, provider, rows, answers))
    return total
