"""The owner's notice on his own panel's pages: his monthly fee coming due, or unpaid and how
many days are left before the panel is suspended (docs/child-panels.md). Only the panel's staff
(the owner's login on it) see it: his customers are not told about his bill."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import ChildPanel, ChildPanelState, User
from core.money import ZERO

# How early the owner is told a fee is coming: a week, so a top-up has time to arrive.
NOTICE_BEFORE = timedelta(days=7)


@dataclass(frozen=True)
class OwnerNotice:
    unpaid: bool  # False: due soon; True: past its date, in the grace period
    fee: Decimal
    due: datetime
    days_left: int  # to the date it is due, or (unpaid) to the suspension


def owner_notice(
    *, child: ChildPanel | None, user: User, now: datetime | None = None
) -> OwnerNotice | None:
    if child is None or not user.is_staff or user.child_panel_id != child.pk:
        return None
    due = child.paid_until
    if due is None or child.monthly_fee <= ZERO or child.state != ChildPanelState.ACTIVE:
        return None
    now = now or timezone.now()
    if now < due - NOTICE_BEFORE:
        return None
    if now < due:
        return OwnerNotice(unpaid=False, fee=child.monthly_fee, due=due, days_left=_days(due - now))
    suspends_at = due + timedelta(days=settings.PANEL_CHILD_PANEL_GRACE_DAYS)
    return OwnerNotice(
        unpaid=True,
        fee=child.monthly_fee,
        due=due,
        days_left=max(_days(suspends_at - now), 0),
    )


def _days(span: timedelta) -> int:
    # Whole days, rounded up: "1 day left" until the very last moment, never "0 days" early.
    return -(-int(span.total_seconds()) // 86400)
