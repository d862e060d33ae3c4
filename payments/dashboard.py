"""What the payments app puts on the admin dashboard (panel.dashboard.hooks finds this module)."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from payments.models import Deposit, Gateway
from payments.services.crediting import DECIDABLE


def deposits_by_gateway(start: datetime, end: datetime) -> list[tuple[str, Decimal]]:
    """What was credited in [start, end) per gateway (bonuses are ledger lines of their own)."""
    rows = (
        Deposit.objects.filter(
            status=Deposit.Status.CREDITED, credited_at__gte=start, credited_at__lt=end
        )
        .values("gateway")
        .annotate(total=Sum("credited_amount"))
        .order_by("gateway")
    )
    return [(str(Gateway(row["gateway"]).label), row["total"]) for row in rows]


def hands() -> list[dict]:
    """Deposits waiting for an admin: transfers that matched nobody, those to review, and
    payments that came after their deposit was rejected."""
    counts = dict(
        Deposit.objects.filter(status__in=DECIDABLE).values_list("status").annotate(n=Count("*"))
    )
    url = reverse("admin:payments_unmatcheddeposit_changelist")
    return [
        {
            "label": _("Unmatched deposits"),
            "count": counts.get(Deposit.Status.UNMATCHED, 0),
            "url": f"{url}?status__exact=unmatched",
        },
        {
            "label": _("Deposits to review"),
            "count": counts.get(Deposit.Status.REVIEW, 0),
            "url": f"{url}?status__exact=review",
        },
        {
            "label": _("Deposits paid after rejection"),
            "count": counts.get(Deposit.Status.PAID_LATE, 0),
            "url": f"{url}?status__exact=paid_late",
        },
    ]
