"""The margin guard: what a sync decides when an upstream price moves or an item comes back.

An item is held (off sale, `hold_reason` stored as data, the admin and the staff digest name it)
when, after the sync:

- its new cost leaves less than PANEL_MIN_MARGIN_PERCENT over cost at the lowest price any
  customer pays for it now (a new item: at the markup's price): the best active pricing tier
  or personal discount, and the lowest per-customer override, in credit bought with the
  largest deposit bonus a coupon or bonus rule pays now (accounts.credit_bonus: 120 credited
  for 100 paid is a sixth off every price);
- its cost rose by more than PANEL_PRICE_HOLD_PERCENT, even when the margin holds: a customer
  should not find the price jumped without an operator having seen it;
- it came back upstream after being removed.

A cost change that keeps the margin and the rise limit is repriced by the markup rules as
before. A held item keeps its selling price until an operator resolves it (catalog.holds):
approve the markup's price, approve a pinned price, or take it off sale. An item that vanished upstream is
taken off sale by the sync and its price left alone, never set to 0.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Min

from accounts.credit_bonus import credit_bonus_percent
from accounts.models import PricingTier, User
from core.money import ZERO
from providers.markup import HUNDRED, clears_margin, customer_rate
from providers.models import CatalogItem, HoldReason, PriceOverride, Service


@dataclass(frozen=True)
class MarginFloor:
    """What the guard needs about customers, read once per sync: no query per item."""

    min_margin_percent: Decimal
    hold_percent: Decimal
    percent_off: Decimal = ZERO  # the largest any customer gets
    overrides: Mapping[int, Decimal] = field(default_factory=dict)  # lowest per service id
    bonus_percent: Decimal = ZERO  # the largest deposit bonus: credit cheaper than its face

    def lowest_rate(self, *, item: CatalogItem, rate: Decimal) -> Decimal:
        """The lowest price any customer pays for `item` if it sells at `rate`, in money: the
        lowest price in credit, bought with the largest deposit bonus."""
        lowest = customer_rate(rate=rate, discount_percent=self.percent_off)
        override = self.overrides.get(item.pk) if isinstance(item, Service) else None
        lowest = lowest if override is None else min(lowest, override)
        return lowest * HUNDRED / (HUNDRED + self.bonus_percent)

    def clears(self, *, item: CatalogItem, rate: Decimal, cost: Decimal) -> bool:
        return clears_margin(
            price=self.lowest_rate(item=item, rate=rate),
            cost=cost,
            min_margin_percent=self.min_margin_percent,
        )

    def hold_for(
        self, *, item: CatalogItem, rate: Decimal, cost: Decimal, old_cost: Decimal | None
    ) -> str:
        """The reason to hold `item` selling at `rate` now that it costs `cost` (it cost
        `old_cost` before, None for a new item), or HoldReason.NONE."""
        if not self.clears(item=item, rate=rate, cost=cost):
            return HoldReason.BELOW_MARGIN
        if old_cost is not None and cost > old_cost * (HUNDRED + self.hold_percent) / HUNDRED:
            return HoldReason.PRICE_RISE
        return HoldReason.NONE

    def hold_for_new(self, *, rate: Decimal, cost: Decimal) -> str:
        """hold_for of an item the panel does not have yet: no customer has a price of their
        own for it, and it had no cost before."""
        price = customer_rate(rate=rate, discount_percent=self.percent_off)
        if not clears_margin(price=price, cost=cost, min_margin_percent=self.min_margin_percent):
            return HoldReason.BELOW_MARGIN
        return HoldReason.NONE


def margin_floor(*, service_ids: Iterable[int] | None = None) -> MarginFloor:
    """The floor as the customers stand now; `service_ids` narrows the overrides read (None:
    all). A handful of queries whatever the catalog's size."""
    tier_off = PricingTier.objects.filter(is_active=True).aggregate(m=Max("percent_off"))["m"]
    personal_off = User.objects.filter(is_active=True).aggregate(m=Max("discount_percent"))["m"]
    overrides = PriceOverride.objects.filter(user__is_active=True)
    if service_ids is not None:
        overrides = overrides.filter(service_id__in=service_ids)
    return MarginFloor(
        min_margin_percent=settings.PANEL_MIN_MARGIN_PERCENT,
        hold_percent=settings.PANEL_PRICE_HOLD_PERCENT,
        percent_off=max(tier_off or ZERO, personal_off or ZERO),
        overrides=dict(
            overrides.values("service_id")
            .annotate(lowest=Min("rate"))
            .values_list("service_id", "lowest")
        ),
        bonus_percent=credit_bonus_percent(),
    )
