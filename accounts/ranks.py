"""Ranks: the pricing tiers as customers see them (Thành viên → CTV → Đại lý → VIP).

The rules, in one place:

- A rank is reached when the customer's total on its basis (deposits, or spend: charges less
  refunds) is at least its threshold. Of the ranks reached, the one with the largest percent
  off is the best (`rank_key`): that is the ladder's order.
- A customer moves **up** right after the deposit that earns it (in the crediting transaction)
  and on the beat pass (`accounts.services.pricing_tiers_assign`); each move up to a rank with
  a threshold above zero is one "promoted" email, once per customer and rank.
- Never down on its own: a threshold raised out of reach, or spend that fell with a refund,
  leaves the rank held. A rank the operator disables or deletes lets its holders go to the
  best rank they reach now, which may be lower: the operator's act, with no email.
- A rank may unlock child panels (`unlocks_child_panels`); an admin may grant them to one
  customer whatever their rank (`User.child_panels_allowed`): `can_order_child_panels`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, Sum

from accounts.models import BalanceTransaction, LedgerArchivedTotal, PricingTier, User
from core.money import ZERO

Basis = PricingTier.Basis
Kind = BalanceTransaction.Kind


@dataclass(frozen=True)
class RankMove:
    """One customer moved by pricing_tiers_assign."""

    user_id: int
    rank: PricingTier | None
    previous: PricingTier | None
    is_promotion: bool  # worth a "promoted" email (see the module's rules)


def rank_key(rank: PricingTier) -> tuple[Decimal, Decimal, int]:
    """The ladder's order: more off is higher; a tie goes to the higher threshold, then the
    older rank."""
    return (rank.percent_off, rank.threshold, -rank.pk)


def best_rank(ranks: Iterable[PricingTier], totals: Mapping[str, Decimal]) -> PricingTier | None:
    reached = [rank for rank in ranks if totals.get(rank.basis, ZERO) >= rank.threshold]
    return max(reached, key=rank_key, default=None)


def is_promotion(rank: PricingTier | None, previous: PricingTier | None) -> bool:
    """A move worth telling the customer about: up, to a rank that took money to reach."""
    if rank is None or rank.threshold <= ZERO:
        return False
    return previous is None or rank_key(rank) > rank_key(previous)


def ledger_totals(*, user_ids: list[int] | None, bases: set[str]) -> dict[int, dict[str, Decimal]]:
    """Each user's totals on `bases`, from the ledger: deposits are the deposit rows (bonuses
    and adjustments excluded), spend is charges less refunds. Deposits alone read only the
    deposit rows (an index of their own), not every charge of a busy reseller."""
    kinds = [Kind.DEPOSIT] if Basis.DEPOSITS in bases else []
    if Basis.SPEND in bases:
        kinds += [Kind.CHARGE, Kind.REFUND]
    if not kinds:
        return {}
    ledger = BalanceTransaction.objects.filter(kind__in=kinds)
    if user_ids is not None:
        ledger = ledger.filter(user_id__in=user_ids)
    rows = ledger.values("user_id").annotate(
        deposits=Sum("amount", filter=Q(kind=Kind.DEPOSIT), default=ZERO),
        charges=Sum("amount", filter=Q(kind=Kind.CHARGE), default=ZERO),
        refunds=Sum("amount", filter=Q(kind=Kind.REFUND), default=ZERO),
    )
    totals: dict[int, dict[str, Decimal]] = {
        row["user_id"]: {
            Basis.DEPOSITS: row["deposits"],
            Basis.SPEND: -row["charges"] - row["refunds"],
        }
        for row in rows
    }
    # The archived months count as their totals (panel.archive).
    archived = LedgerArchivedTotal.objects.filter(kind__in=kinds)
    if user_ids is not None:
        archived = archived.filter(user_id__in=user_ids)
    for user_id, kind, amount in archived.values_list("user_id", "kind", "amount"):
        user_totals = totals.setdefault(user_id, {Basis.DEPOSITS: ZERO, Basis.SPEND: ZERO})
        basis = Basis.DEPOSITS if kind == Kind.DEPOSIT else Basis.SPEND
        user_totals[basis] += amount if basis == Basis.DEPOSITS else -amount
    return totals


def active_ranks() -> list[PricingTier]:
    """The ladder, lowest first."""
    return sorted(PricingTier.objects.filter(is_active=True), key=rank_key)


def held_rank(user: User, ranks: list[PricingTier]) -> PricingTier | None:
    return next((rank for rank in ranks if rank.pk == user.pricing_tier_id), None)


def customer_percent_off(*, user: User | AnonymousUser) -> Decimal:
    """The percent off every price (their active rank's or their personal discount, the
    larger) for a user, 0 for visitors; providers.pricing applies it."""
    if not isinstance(user, User):
        return ZERO
    if user.child_panel_id is not None:
        # The parent's ranks are not a child panel's (docs/child-panels.md).
        return user.discount_percent or ZERO
    rank_percent = (
        PricingTier.objects.filter(pk=user.pricing_tier_id, is_active=True)
        .values_list("percent_off", flat=True)
        .first()
        if user.pricing_tier_id
        else None
    )
    return max(rank_percent or ZERO, user.discount_percent or ZERO)


def can_order_child_panels(*, user: User) -> bool:
    """Whether `user` may order child panels: an admin's grant, or an active rank that
    unlocks them (the rank they hold; a rank disabled since unlocks nothing)."""
    if user.child_panels_allowed:
        return True
    if user.pricing_tier_id is None:
        return False
    return PricingTier.objects.filter(
        pk=user.pricing_tier_id, is_active=True, unlocks_child_panels=True
    ).exists()


@dataclass(frozen=True)
class RankCard:
    """What the dashboard and the account page show of a customer's rank."""

    rank: PricingTier | None
    next_rank: PricingTier | None
    ladder: list[PricingTier]
    # The customer's total on the next rank's basis, and how far it is from its threshold.
    reached: Decimal = ZERO
    remaining: Decimal = ZERO
    progress_percent: int = 0
    child_panels: bool = False

    @property
    def percent_off(self) -> Decimal:
        return self.rank.percent_off if self.rank else ZERO

    @property
    def is_top(self) -> bool:
        return self.rank is not None and self.next_rank is None


def rank_card(*, user: User) -> RankCard | None:
    """The customer's rank, the next one and the way there; None when the panel has no ranks.

    The rank shown is the one held; a customer who holds none yet (a new sign-up before the
    hourly pass) is shown the one their totals reach, which is what the pass will give."""
    ladder = active_ranks()
    if not ladder:
        return None
    bases = {rank.basis for rank in ladder}
    totals = ledger_totals(user_ids=[user.pk], bases=bases).get(user.pk, {})
    rank = held_rank(user, ladder) or best_rank(ladder, totals)
    above = [step for step in ladder if rank is None or rank_key(step) > rank_key(rank)]
    next_rank = above[0] if above else None
    child_panels = can_order_child_panels(user=user)
    if next_rank is None:
        return RankCard(rank=rank, next_rank=None, ladder=ladder, child_panels=child_panels)
    reached = max(totals.get(next_rank.basis, ZERO), ZERO)
    needed = next_rank.threshold
    return RankCard(
        rank=rank,
        next_rank=next_rank,
        ladder=ladder,
        reached=reached,
        remaining=max(needed - reached, ZERO),
        progress_percent=100 if needed <= ZERO else min(int(reached * 100 / needed), 100),
        child_panels=child_panels,
    )
