"""What the polling engine's parts share: the sizes, the schedule of a row that did not move,
what a kind of row needs polled (`PollSpec`), and what a poll counts and times."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Expression, Q

from core.money import ZERO
from orders.lifecycle import FINAL_BY_KIND, Kind, Seen
from orders.models import Order, ProductOrder, Refill
from providers.client import ProviderClient
from providers.errors import ProviderError

BATCH_SIZE = 100  # the protocol's limit per status call
CHUNK_SIZE = 1000  # rows claimed and written together
PIPELINE_DEPTH = 2  # at least this many chunks in flight while one is written
# A claimed row is not claimed again before this, unless its round's lock is taken over.
LEASE = timedelta(minutes=5)
# "Incorrect order ID" this many times in a row: the provider lost it, a person looks.
MISS_LIMIT = 5
MAX_IDLE = 10
# What every claimed row carries besides its kind's own fields.
# (`next_poll_at`: where a sweep has claimed up to, recorded with its lease.)
CLAIMED_FIELDS = (
    "id",
    "upstream_id",
    "user_id",
    "poll_idle_count",
    "poll_miss_count",
    "next_poll_at",
)


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


@dataclass(frozen=True)
class PollSpec:
    kind: Kind
    model: type[Order] | type[Refill] | type[ProductOrder]
    due: Q  # the same condition as the model's partial "due for poll" index, so the claim uses it
    fields: tuple[str, ...]
    fetch: Callable[[ProviderClient, Sequence[str]], dict[str, Any]]
    observe: Callable[[Any], Seen]  # an upstream answer -> what it says
    # Values the claim reads computed by the database, by name (see ORDERS' package_details).
    computed: Mapping[str, Expression] = field(default_factory=dict)

    @property
    def final_statuses(self) -> frozenset[str]:
        return FINAL_BY_KIND[self.kind]
