"""The Affiliates page's and the admin's figures."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import CommissionTransaction, User
from affiliates.models import Affiliate, Commission, Payout, Referral
from core.money import MONEY_DIGITS, MONEY_PLACES, ZERO

Status = Commission.Status
Kind = CommissionTransaction.Kind
REFERRALS_SHOWN = 50


def username_mask(name: str) -> str:
    """Enough of a referred customer's name to recognise, not to find: "ng***n"."""
    if len(name) <= 2:
        return name[:1] + "***"
    if len(name) <= 4:
        return f"{name[0]}***{name[-1]}"
    return f"{name[:2]}***{name[-1]}"


@dataclass(frozen=True)
class Figures:
    visits: int
    signups: int
    paying: int
    deposits: Decimal
    pending: Decimal
    available: Decimal
    owed: Decimal
    paid: Decimal
    requested: Decimal


def affiliate_figures(*, user: User, affiliate: Affiliate | None) -> Figures:
    earned = Commission.objects.filter(affiliate=user).aggregate(
        paying=Count("referred", distinct=True, filter=~Q(status=Status.REFUSED)),
        deposits=Sum("deposit_amount", filter=~Q(status=Status.REFUSED), default=ZERO),
        pending=Sum("amount", filter=Q(status__in=[Status.PENDING, Status.HELD]), default=ZERO),
    )
    moved = CommissionTransaction.objects.filter(user=user).aggregate(
        transferred=Sum("amount", filter=Q(kind=Kind.TRANSFER), default=ZERO)
    )
    payouts = Payout.objects.filter(affiliate=user).aggregate(
        paid=Sum("amount", filter=Q(status=Payout.Status.PAID), default=ZERO),
        requested=Sum("amount", filter=Q(status=Payout.Status.REQUESTED), default=ZERO),
    )
    balance = User.objects.values_list("commission_balance", flat=True).get(pk=user.pk)
    return Figures(
        visits=affiliate.visits if affiliate else 0,
        signups=Referral.objects.filter(referrer=user).count(),
        paying=earned["paying"],
        deposits=earned["deposits"],
        pending=earned["pending"],
        available=max(balance, ZERO),
        owed=max(-balance, ZERO),
        # Moved to the balance (negative lines) and payouts sent: money that left the book.
        paid=-moved["transferred"] + payouts["paid"],
        requested=payouts["requested"],
    )


@dataclass(frozen=True)
class ReferralRow:
    masked: str
    joined_at: datetime
    deposits: Decimal
    commission: Decimal


def referral_rows(*, user: User) -> list[ReferralRow]:
    """The newest referrals with what each brought, names masked."""
    referrals = list(
        Referral.objects.filter(referrer=user)
        .select_related("referred")
        .order_by("-id")[:REFERRALS_SHOWN]
    )
    totals = {
        row["referred_id"]: row
        for row in Commission.objects.filter(
            affiliate=user, referred_id__in=[r.referred_id for r in referrals]
        )
        .exclude(status__in=[Status.REFUSED])
        .values("referred_id")
        .annotate(
            deposits=Sum("deposit_amount"),
            commission=Sum("amount", filter=~Q(status=Status.REVERSED), default=ZERO),
        )
    }
    rows = []
    for referral in referrals:
        total: dict[str, Any] = dict(totals.get(referral.referred_id) or {})
        rows.append(
            ReferralRow(
                masked=username_mask(referral.referred.username),
                joined_at=referral.created_at,
                deposits=total.get("deposits") or ZERO,
                commission=total.get("commission") or ZERO,
            )
        )
    return rows


def affiliates_with_figures() -> QuerySet[Affiliate]:
    """The admin's list: every affiliate with the Affiliates page's figures (subqueries: joins
    of several would multiply each other's rows)."""
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    def total(rows: QuerySet, key: str, value: Any) -> Any:
        return Subquery(rows.values(key).annotate(total=value).values("total"))

    def money_of(rows: QuerySet, key: str, column: str) -> Coalesce:
        subquery = Subquery(
            rows.values(key).annotate(total=Sum(column)).values("total"), output_field=money
        )
        return Coalesce(subquery, Value(ZERO), output_field=money)

    earned = Commission.objects.filter(affiliate=OuterRef("user")).exclude(status=Status.REFUSED)
    return Affiliate.objects.select_related("user").annotate(
        signups=Coalesce(
            total(Referral.objects.filter(referrer=OuterRef("user")), "referrer", Count("pk")),
            Value(0),
        ),
        paying=Coalesce(total(earned, "affiliate", Count("referred", distinct=True)), Value(0)),
        deposits=money_of(earned, "affiliate", "deposit_amount"),
        pending=money_of(
            Commission.objects.filter(
                affiliate=OuterRef("user"), status__in=[Status.PENDING, Status.HELD]
            ),
            "affiliate",
            "amount",
        ),
        # As on the page: moved to the balance (negative lines) and payouts sent.
        moved=money_of(
            CommissionTransaction.objects.filter(user=OuterRef("user"), kind=Kind.TRANSFER),
            "user",
            "amount",
        ),
        paid_out=money_of(
            Payout.objects.filter(affiliate=OuterRef("user"), status=Payout.Status.PAID),
            "affiliate",
            "amount",
        ),
    )
