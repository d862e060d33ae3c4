"""Forwarding to the provider, at most once.

Each forward claims its row (queued → sending) with a conditional update that commits before
the upstream call, so two workers can never both send it. What happens next depends on the
error class (docs/protocol.md): only a request that provably never landed is retried; an unknown
outcome waits for a person and is never resent automatically.
"""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.db.locks import held_one_of, locks_held
from core.memos import Text
from orders.lifecycle import FINAL_BY_KIND, By, Kind, Reason, dispatch_move, kind_of
from orders.lifecycle.events import Actor
from orders.lifecycle.moves import review_restate
from orders.memos import (
    ACCEPTED,
    ANSWERED_LATE,
    ATTEMPT,
    KEY_REFUSED,
    LINK_BUSY,
    OUTCOME_UNKNOWN,
    PROVIDER_BUSY,
    REJECTED,
    UNEXPECTED_ERROR,
    UPSTREAM_ID,
    UPSTREAM_ID_TAKEN,
    WILL_RETRY,
)
from orders.models import (
    CancelRequest,
    DispatchState,
    Order,
    ProductOrder,
    Refill,
)
from providers.client import ProviderClient
from providers.client.messages import LINK_DUPLICATE
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.models import Provider
from providers.services import (
    provider_client,
    provider_mark_credentials_failed,
    provider_pause_dispatch,
    provider_record_error,
)

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 15
RETRY_CAP_SECONDS = 900
BUSY_PAUSE_SECONDS = 120
SWEEP_GRACE = timedelta(seconds=10)  # a fresh row's own task gets there first
SLOT_WAIT = timedelta(seconds=1)  # a row whose provider had no free slot is due again after


def first_poll_delay() -> timedelta:
    return timedelta(seconds=settings.PANEL_POLL_INTERVAL_SECONDS)


def _retry_delay(attempts: int) -> timedelta:
    seconds = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(1.0, 1.2))  # jitter spreads a herd of retries


@dataclass
class Forwarding:
    """One row to forward and what its kind does on each outcome."""

    row: Order | ProductOrder | Refill | CancelRequest
    send: Callable[[ProviderClient], str]
    on_sent: Callable[[str], None]
    on_rejected: Callable[[str], None]
    unknown_reason: str = Reason.ADD_UNKNOWN  # why it waits for a person when the answer is lost
    # Written with the move to `sent` / `failed` (a cancel request's outcome), in one update.
    sent_values: dict[str, Any] = field(default_factory=dict)
    rejected_values: dict[str, Any] = field(default_factory=dict)
    # Tried first when the provider rejects the request outright: True when another route took
    # the row (orders.services.routing), which then is not failed.
    reroute: Callable[[str], bool] | None = None

    @property
    def kind(self) -> Kind:
        return kind_of(type(self.row))


WORKER = By(Actor.WORKER)


def _move(
    forward: Forwarding, to_state: str, message: Text, reason: str = "", **values: Any
) -> bool:
    """Move the row on from `sending` (the only state a forward leaves)."""
    return dispatch_move(
        forward.kind,
        forward.row.pk,
        from_state=DispatchState.SENDING,
        to_state=to_state,
        actor=WORKER,
        message=message,
        reason=reason,
        **values,
    )


def _requeue(
    forward: Forwarding, message: Text, error: ProviderError, next_at: datetime | None
) -> None:
    """Back to `queued`: the request provably did not land (or must wait), so it may go again."""
    _move(
        forward,
        DispatchState.QUEUED,
        message,
        dispatch_error=error.message[:500],
        next_dispatch_at=next_at,
        sending_started_at=None,
    )


def _claim(forward: Forwarding, now: datetime) -> bool:
    only = Q(next_dispatch_at__isnull=True) | Q(next_dispatch_at__lte=now)
    if forward.kind is not Kind.CANCEL:
        only &= ~Q(status__in=FINAL_BY_KIND[forward.kind])  # a finished row is never bought again
    return dispatch_move(
        forward.kind,
        forward.row.pk,
        from_state=DispatchState.QUEUED,
        to_state=DispatchState.SENDING,
        actor=WORKER,
        message=ATTEMPT(number=forward.row.dispatch_attempts + 1),
        only=only,
        sending_started_at=now,
        dispatch_attempts=F("dispatch_attempts") + 1,
    )


def forward_slots(provider_id: int) -> list[str]:
    """The advisory locks of one provider's forwarding slots: a forward holds one through its
    upstream call, so no more than PANEL_PROVIDER_FORWARD_SLOTS calls are in flight to it."""
    return [f"forward-slot:{provider_id}:{n}" for n in range(settings.PANEL_PROVIDER_FORWARD_SLOTS)]


def providers_without_free_slot() -> set[int]:
    """The providers whose every forwarding slot is held now (a call hangs in each): the
    sweeps queue none of their rows until one is free."""
    slots = {
        name: provider_id
        for provider_id in Provider.objects.filter(is_enabled=True).values_list("pk", flat=True)
        for name in forward_slots(provider_id)
    }
    held: dict[int, int] = {}
    for name in locks_held(slots):
        held[slots[name]] = held.get(slots[name], 0) + 1
    return {pk for pk, count in held.items() if count >= settings.PANEL_PROVIDER_FORWARD_SLOTS}


def forward_run(forward: Forwarding) -> str:
    """Send one forward upstream within a slot of its provider; what came of it, as a word."""
    now = timezone.now()
    provider: Provider = forward.row.provider
    if not provider.can_dispatch_at(now):
        return "waiting"
    with held_one_of(forward_slots(provider.pk)) as slot:
        if slot is None:
            _wait_for_slot(forward, now)
            return "waiting"
        return _forward_in_slot(forward, provider, now)


def _wait_for_slot(forward: Forwarding, now: datetime) -> None:
    """Every slot of the provider is held: leave the row queued, due again shortly, and free
    this worker process for other providers' rows. Only the due time changes (no move: the
    row never left `queued`), so the sweep queues it again once a slot is free."""
    rows = type(forward.row).objects.filter(pk=forward.row.pk, dispatch_state=DispatchState.QUEUED)
    if forward.kind is Kind.CANCEL:
        rows = rows.filter(next_dispatch_at__isnull=False)  # none: held for its order's add
    rows.update(next_dispatch_at=now + SLOT_WAIT * random.uniform(1.0, 2.0))


def _forward_in_slot(forward: Forwarding, provider: Provider, now: datetime) -> str:
    if not _claim(forward, now):
        return "skipped"
    attempts = forward.row.dispatch_attempts + 1
    try:
        upstream_id = forward.send(provider_client(provider))
    except ProviderUnavailable as exc:
        provider_record_error(provider=provider, message=exc.message)
        _requeue(forward, WILL_RETRY(error=exc.message), exc, now + _retry_delay(attempts))
        return "retry"
    except ProviderBusy as exc:
        return _wait_busy(forward, provider, exc, now)
    except ProviderAuthError as exc:
        provider_mark_credentials_failed(provider=provider, message=exc.message)
        _requeue(forward, KEY_REFUSED(error=exc.message), exc, now)
        return "waiting"
    except ProviderRejected as exc:
        if forward.reroute is not None and forward.reroute(exc.message):
            return "rerouted"
        with transaction.atomic():
            if _move(
                forward,
                DispatchState.FAILED,
                REJECTED(reason=exc.message),
                dispatch_error=exc.message[:500],
                **forward.rejected_values,
            ):
                forward.on_rejected(exc.message)
        return "failed"
    except ProviderAmbiguous as exc:
        _move(
            forward,
            DispatchState.NEEDS_REVIEW,
            OUTCOME_UNKNOWN(error=exc.message),
            reason=forward.unknown_reason,
            dispatch_error=exc.message[:500],
        )
        return "needs_review"
    except Exception as exc:
        # A bug between claim and answer: whether the request left is unknown, so never resend.
        _move(
            forward,
            DispatchState.NEEDS_REVIEW,
            UNEXPECTED_ERROR(error=repr(exc)[:400]),
            reason=forward.unknown_reason,
            dispatch_error=repr(exc)[:500],
        )
        raise
    return _record_sent(forward, upstream_id)


def _wait_busy(forward: Forwarding, provider: Provider, exc: ProviderBusy, now: datetime) -> str:
    if exc.message == LINK_DUPLICATE:
        # Busy for this link only: this row waits, the provider's other orders go on. Never
        # failed or refunded for it (the add provably did not land); the panel's own order on
        # the link finishing makes it due sooner (orders.link_waits).
        delay = timedelta(seconds=settings.PANEL_LINK_BUSY_RETRY_SECONDS) * random.uniform(1.0, 1.2)
        _requeue(forward, LINK_BUSY(error=exc.message), exc, now + delay)
        return "waiting"
    provider_pause_dispatch(provider=provider, seconds=BUSY_PAUSE_SECONDS, message=exc.message)
    _requeue(forward, PROVIDER_BUSY(error=exc.message), exc, provider.dispatch_paused_until)
    return "waiting"


def _record_sent(forward: Forwarding, upstream_id: str) -> str:
    """Store what the provider answered. The upstream id is what later proves the purchase, so
    it is written down even when the row cannot move to `sent`."""
    try:
        with transaction.atomic():
            if _move(
                forward,
                DispatchState.SENT,
                UPSTREAM_ID(upstream_id=upstream_id) if upstream_id else ACCEPTED(),
                upstream_id=upstream_id or None,
                sent_at=timezone.now(),
                next_poll_at=timezone.now() + first_poll_delay(),
                dispatch_error="",
                **forward.sent_values,
            ):
                forward.on_sent(upstream_id)
                return "sent"
    except IntegrityError:
        _move(
            forward,
            DispatchState.NEEDS_REVIEW,
            UPSTREAM_ID_TAKEN(upstream_id=upstream_id),
            reason=Reason.ANSWER_NOT_KEPT,
            dispatch_error=f"upstream id in use: {upstream_id}",
        )
        return "needs_review"
    # The sweeper flagged the row while the provider was answering: it was bought, so keep its
    # id for the admin (who can then resume polling it) and never resend it.
    review_restate(
        forward.kind,
        forward.row.pk,
        reason=Reason.ANSWER_NOT_KEPT,
        message=ANSWERED_LATE(upstream_id=upstream_id or "—"),
        dispatch_error=f"late upstream id: {upstream_id or '-'}",
        actor=WORKER,
        upstream_id=upstream_id or None,
    )
    return "needs_review"
