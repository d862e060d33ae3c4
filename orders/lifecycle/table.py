"""The lifecycle as data: states, allowed moves, review reasons and what each reason allows.

Read this one screen to know every way a row can move (docs/lifecycle.md draws it). The write
functions in `moves.py` refuse any move that is not listed here, so the table is the rule, not
a comment about it.

A row's state is its dispatch state (where it stands with the provider) × its status class
(OPEN while the customer's status can still change, else the final status).
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import DispatchState as D
from orders.models import OrderStatus, ProductOrderStatus, RefillStatus, ReviewReason


class Kind(StrEnum):
    ORDER = "order"
    PRODUCT_ORDER = "product_order"
    REFILL = "refill"
    CANCEL = "cancel"  # a cancel request of an order


OPEN = "open"  # Pending, Processing, In progress: the provider may still change it
COMPLETED, PARTIAL = OrderStatus.COMPLETED, OrderStatus.PARTIAL
CANCELED, REJECTED = OrderStatus.CANCELED, RefillStatus.REJECTED
FINAL_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.ORDER: OrderStatus.finals(),
    Kind.PRODUCT_ORDER: ProductOrderStatus.finals(),
    Kind.REFILL: RefillStatus.finals(),
    Kind.CANCEL: frozenset({"accepted", "rejected"}),  # a cancel request's outcome
}


@dataclass(frozen=True)
class State:
    dispatch: str
    status: str  # OPEN or a final status


# Dispatch moves: (from, to) → who makes it. Status stays OPEN unless a finish says otherwise.
DISPATCH_MOVES: dict[tuple[str, str], str] = {
    (D.QUEUED, D.SENDING): "a worker claims it (conditional update, committed before the call)",
    (D.QUEUED, D.FAILED): "canceled before it was sent: full refund",
    (D.SENDING, D.SENT): "the provider answered with its id",
    (D.SENDING, D.QUEUED): "provably never landed, or the provider is busy: retry later "
    "(or rejected, and the service's next route takes it: orders.services.routing)",
    (D.SENDING, D.FAILED): "rejected by the provider: full refund",
    (D.SENDING, D.NEEDS_REVIEW): "outcome unknown, worker lost, or an answer that can't be kept",
    (D.SENT, D.NEEDS_REVIEW): "polling: unknown status, missing upstream, partial without figures",
    (D.NEEDS_REVIEW, D.SENT): "an admin attached the upstream id, resumed polling or finished it",
    (D.NEEDS_REVIEW, D.QUEUED): "an admin confirmed the add never landed: send again",
    (D.NEEDS_REVIEW, D.FAILED): "an admin confirmed it never landed: cancel and refund in full",
    # Refills only (KIND_ONLY_MOVES): the escalation of a refill the provider rejected or did
    # not finish by its deadline (orders.services.refill_escalation, docs/lifecycle.md).
    (D.SENT, D.FAILED): "refills: rejected at the provider, or the panel stops waiting for it",
    (D.SENT, D.QUEUED): "refills: not done by the deadline, asked again",
    (D.FAILED, D.QUEUED): "refills: rejected by the provider, asked again",
}
# Moves that only some kinds make; every other move is open to every kind.
KIND_ONLY_MOVES: dict[tuple[str, str], frozenset[Kind]] = {
    (D.SENT, D.FAILED): frozenset({Kind.REFILL}),
    (D.SENT, D.QUEUED): frozenset({Kind.REFILL}),
    (D.FAILED, D.QUEUED): frozenset({Kind.REFILL}),
}


def moves_for(kind: Kind) -> frozenset[tuple[str, str]]:
    """The dispatch moves a row of `kind` may make."""
    return frozenset(
        move for move in DISPATCH_MOVES if kind in KIND_ONLY_MOVES.get(move, frozenset(Kind))
    )


# Where a final status may be written: (dispatch state at that moment) → dispatch state after.
# Never while queued or sending: the row first moves to `failed` (canceled before sending,
# rejected), so a final status always sits on a settled dispatch state.
FINISH_FROM: dict[str, str] = {
    D.SENT: D.SENT,  # the provider's final status, or a forwarded cancel
    D.NEEDS_REVIEW: D.SENT,  # an admin's resolution of a row that is at the provider
    D.FAILED: D.FAILED,  # an admin's "never landed": cancel and refund
}


Reason = ReviewReason


class Resolution(models.TextChoices):
    ATTACH_UPSTREAM_ID = "attach", _("Found at the provider: attach its id and poll")
    RESUME_POLLING = "resume", _("Poll it again")
    SEND_AGAIN = "send_again", _("Not at the provider (checked): send again")
    CANCEL_REFUND = "cancel_refund", _("Cancel and refund in full")
    FINISH_COMPLETED = "completed", _("Finish as Completed")
    FINISH_PARTIAL = "partial", _("Finish as Partial (delivered quantity or provider's charge)")
    CANCEL_ACCEPTED = "cancel_accepted", _("The provider accepted the cancel")
    CANCEL_REJECTED = "cancel_rejected", _("The provider did not cancel it")


R, S = Reason, Resolution
# Reason → the dispatch state a row is flagged from (by the forward, the sweeper or the poller).
REASON_FROM: dict[Reason, str] = {
    R.ADD_UNKNOWN: D.SENDING,
    R.WORKER_LOST: D.SENDING,
    R.ANSWER_NOT_KEPT: D.SENDING,
    R.CANCEL_UNKNOWN: D.SENDING,
    R.UNKNOWN_STATUS: D.SENT,
    R.MISSING_UPSTREAM: D.SENT,
    R.PARTIAL_NO_FIGURES: D.SENT,
}
_MAY_NOT_HAVE_LANDED = frozenset({S.ATTACH_UPSTREAM_ID, S.SEND_AGAIN, S.CANCEL_REFUND})
_AT_THE_PROVIDER = frozenset(
    {S.ATTACH_UPSTREAM_ID, S.RESUME_POLLING, S.FINISH_COMPLETED, S.FINISH_PARTIAL, S.CANCEL_REFUND}
)
# Reason → the resolutions it allows. SEND_AGAIN only where the add may never have landed (and
# then only on the admin's word that it is not at the provider); never once an id is known.
RESOLUTIONS: dict[Reason, frozenset[Resolution]] = {
    R.ADD_UNKNOWN: _MAY_NOT_HAVE_LANDED,
    R.WORKER_LOST: _MAY_NOT_HAVE_LANDED,
    R.ANSWER_NOT_KEPT: _AT_THE_PROVIDER,  # the provider said it took it: bought, never resent
    R.UNKNOWN_STATUS: _AT_THE_PROVIDER,
    R.MISSING_UPSTREAM: _AT_THE_PROVIDER,
    # Upstream said Partial: it delivered something, so neither a full refund nor a resend.
    R.PARTIAL_NO_FIGURES: frozenset({S.FINISH_PARTIAL}),
    R.CANCEL_UNKNOWN: frozenset({S.CANCEL_ACCEPTED, S.CANCEL_REJECTED}),
}
# What no kind offers: refills have no delivered share (their Rejected refunds, refunds.py).
NOT_FOR_KIND: dict[Kind, frozenset[Resolution]] = {
    Kind.ORDER: frozenset({S.CANCEL_ACCEPTED, S.CANCEL_REJECTED}),
    Kind.PRODUCT_ORDER: frozenset({S.CANCEL_ACCEPTED, S.CANCEL_REJECTED}),
    Kind.REFILL: frozenset({S.FINISH_PARTIAL, S.CANCEL_ACCEPTED, S.CANCEL_REJECTED}),
    Kind.CANCEL: frozenset(set(S) - {S.CANCEL_ACCEPTED, S.CANCEL_REJECTED}),
}
# Where each resolution takes the row: a dispatch state and, when it finishes, a status.
RESOLVES_TO: dict[Resolution, State] = {
    S.ATTACH_UPSTREAM_ID: State(D.SENT, OPEN),
    S.RESUME_POLLING: State(D.SENT, OPEN),
    S.SEND_AGAIN: State(D.QUEUED, OPEN),
    S.CANCEL_REFUND: State(D.FAILED, CANCELED),  # SENT instead when the row has an upstream id
    S.FINISH_COMPLETED: State(D.SENT, COMPLETED),
    S.FINISH_PARTIAL: State(D.SENT, PARTIAL),
    S.CANCEL_ACCEPTED: State(D.SENT, "accepted"),
    S.CANCEL_REJECTED: State(D.FAILED, "rejected"),
}


def resolved_state(kind: Kind, resolution: Resolution, *, has_upstream_id: bool) -> State:
    """Where `resolution` takes a row of `kind` (refills: Rejected where orders are Canceled;
    a canceled row that is at the provider stays `sent`)."""
    state = RESOLVES_TO[resolution]
    if resolution is S.CANCEL_REFUND:
        status = REJECTED if kind is Kind.REFILL else CANCELED
        return State(D.SENT if has_upstream_id else D.FAILED, status)
    return state


def resolutions_for(kind: Kind, reason: str) -> frozenset[Resolution]:
    """What an admin may do about a row of `kind` waiting for `reason`."""
    try:
        allowed = RESOLUTIONS[Reason(reason)]
    except ValueError:
        return frozenset()
    return allowed - NOT_FOR_KIND[kind]


def is_final(state: State, kind: Kind) -> bool:
    return state.status in FINAL_BY_KIND[kind] and state.dispatch in (D.SENT, D.FAILED)
