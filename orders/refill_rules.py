"""Whether an order may be refilled now, and if not, why and from when.

One verdict for the web, `/api/v2` and tickets (docs/lifecycle.md, "Refills"). The API answers
every refusal with the protocol's one string ("Refill is not available for this order"); pages
and ticket replies show the reason and, where it lifts, the date it does.

A service's rules: a warranty window in days after the order finished (`warranty_days`), a cap
of refills per order, a cooldown between two requests, one refill in flight at a time; an
order whose refill ended refunded has had its warranty paid out and takes no more.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Count, Max, Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO
from orders.models import DispatchState, Order, OrderStatus, Refill, RefillStatus, Source
from providers.models import RefillEscalation

REFILLABLE_STATUSES = (OrderStatus.COMPLETED, OrderStatus.PARTIAL)


class Refusal(StrEnum):
    NO_REFILL = "no_refill"
    NOT_FINISHED = "not_finished"
    WINDOW_CLOSED = "window_closed"
    CAP_REACHED = "cap_reached"
    IN_FLIGHT = "in_flight"
    COOLDOWN = "cooldown"
    COOLDOWN_PAST_WARRANTY = "cooldown_past_warranty"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class RefillHistory:
    """What the rules need from an order's earlier refills."""

    count: int = 0
    last_at: datetime | None = None
    open_count: int = 0
    refunded_count: int = 0


@dataclass(frozen=True)
class RefillVerdict:
    refusal: Refusal | None
    warranty_ends_at: datetime | None = None  # None: no window (or no refills at all)
    possible_at: datetime | None = None  # when the refusal lifts by itself, if it does
    used: int = 0
    cap: int | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def reason(self) -> str:
        """The refusal in the reader's language ("" when allowed)."""
        if self.refusal is None:
            return ""
        text = _REASONS[self.refusal]
        values = {
            "date": when_text(self.possible_at or self.warranty_ends_at),
            "cap": self.cap or 0,
        }
        return str(text) % values

    @property
    def short(self) -> str:
        """The refusal in a few words, for a list's narrow column ("" when allowed)."""
        if self.refusal is None:
            return ""
        return str(_SHORT[self.refusal]) % {"date": when_text(self.possible_at)}


_SHORT = {
    Refusal.NO_REFILL: _("No refill"),
    Refusal.NOT_FINISHED: _("Not finished yet"),
    Refusal.WINDOW_CLOSED: _("Warranty ended"),
    Refusal.CAP_REACHED: _("Refills used up"),
    Refusal.IN_FLIGHT: _("Refill running"),
    Refusal.COOLDOWN: _("Again from %(date)s"),
    Refusal.COOLDOWN_PAST_WARRANTY: _("No further refill"),
    Refusal.REFUNDED: _("Refunded"),
}
_REASONS = {
    Refusal.NO_REFILL: _("This service has no refill."),
    Refusal.NOT_FINISHED: _("It can be refilled once the order is Completed or Partial."),
    Refusal.WINDOW_CLOSED: _("The warranty ended on %(date)s."),
    Refusal.CAP_REACHED: _("This order has had its %(cap)s refills."),
    Refusal.IN_FLIGHT: _("A refill of this order is still running."),
    Refusal.COOLDOWN: _("The next refill can be asked for from %(date)s."),
    Refusal.COOLDOWN_PAST_WARRANTY: _(
        "No further refill: the wait between refills runs past the warranty's end on %(date)s."
    ),
    Refusal.REFUNDED: _("A refill of this order was refunded: its warranty is settled."),
}


def when_text(moment: datetime | None) -> str:
    """A moment as the order pages write theirs (local time, "Y-m-d H:i")."""
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def refill_deadline(*, order: Order, now: datetime) -> datetime:
    """When a refill opened or escalated now must be done before its service's next step: one
    rule for a customer's request and for each escalation (docs/lifecycle.md, "Refills")."""
    return now + timedelta(hours=order.service.refill_deadline_hours)


def warranty_ends_at(order: Order) -> datetime | None:
    """When the order's refill window closes: `warranty_days` after it finished."""
    days = order.service.warranty_days
    if not order.service.has_refill or days is None or order.status not in REFILLABLE_STATUSES:
        return None
    finished = order.finished_at or order.updated_at
    return finished + timedelta(days=days)


def refill_verdict(
    *, order: Order, history: RefillHistory, now: datetime | None = None
) -> RefillVerdict:
    """The one check every way of asking for a refill makes (the order's service loaded)."""
    now = now or timezone.now()
    service = order.service
    # The panel's own order of a refill's missing quantity is the refill itself: its customer
    # refills the original order, never the replacement (it would restart the warranty and the cap).
    if not service.has_refill or order.source == Source.REFILL:
        return RefillVerdict(Refusal.NO_REFILL)
    ends = warranty_ends_at(order)
    cap = service.refill_max_per_order
    allowed = RefillVerdict(None, warranty_ends_at=ends, used=history.count, cap=cap)
    if order.status not in REFILLABLE_STATUSES or order.dispatch_state != DispatchState.SENT:
        return replace(allowed, refusal=Refusal.NOT_FINISHED)
    if history.refunded_count:
        return replace(allowed, refusal=Refusal.REFUNDED)
    if ends is not None and now >= ends:
        return replace(allowed, refusal=Refusal.WINDOW_CLOSED)
    if cap is not None and history.count >= cap:
        return replace(allowed, refusal=Refusal.CAP_REACHED)
    if history.open_count:
        return replace(allowed, refusal=Refusal.IN_FLIGHT)
    if history.last_at is not None and service.refill_cooldown_hours:
        possible = history.last_at + timedelta(hours=service.refill_cooldown_hours)
        if now < possible:
            if ends is not None and possible >= ends:
                # The cooldown outlasts the warranty: it never becomes possible again.
                return replace(allowed, refusal=Refusal.COOLDOWN_PAST_WARRANTY)
            return replace(allowed, refusal=Refusal.COOLDOWN, possible_at=possible)
    return allowed


def refill_histories(*, order_ids: list[int]) -> dict[int, RefillHistory]:
    """Each order's refill history, in one query (orders without refills are absent)."""
    rows = (
        Refill.objects.filter(order_id__in=order_ids)
        .values("order_id")
        .annotate(
            count=Count("id"),
            last_at=Max("created_at"),
            open_count=Count("id", filter=Q(status__in=RefillStatus.opens())),
            refunded_count=Count(
                "id",
                filter=Q(status=RefillStatus.REJECTED)
                & (Q(refunded__gt=ZERO) | Q(escalation=RefillEscalation.REFUND)),
            ),
        )
    )
    return {
        row["order_id"]: RefillHistory(
            count=row["count"],
            last_at=row["last_at"],
            open_count=row["open_count"],
            refunded_count=row["refunded_count"],
        )
        for row in rows
    }


def refill_history(*, order_id: int) -> RefillHistory:
    return refill_histories(order_ids=[order_id]).get(order_id, RefillHistory())
