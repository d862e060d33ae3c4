"""How much cheaper than its face a customer's credit can be: deposit bonuses.

A deposit bonus is a discount paid in advance: a customer who deposits 100 and is credited 120
pays 100 for what the panel prices at 120, so the lowest price any customer pays for a service
is its lowest credit price divided by 1.2. The margin guard (providers.services.catalog.guard)
reads the largest bonus a deposit can earn right now from here:

- a coupon (accounts.coupons): its bonus percent, plus its fixed bonus as a share of the
  smallest deposit it accepts. A fixed bonus on a coupon without a minimum deposit is a gift of
  a set amount, however little is deposited, not a rate: it is not counted (its uses bound it);
- the deposit bonus rules of payments, which registers its reader here when the app loads
  (payments sits beside providers, so neither imports the other).

Coupons and a bonus rule can pay on the same deposit, so their largest percents add up.
"""

from collections.abc import Callable
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Coupon
from core.money import ZERO

HUNDRED = Decimal(100)

_sources: list[Callable[[], Decimal]] = []


def credit_bonus_source_register(*, source: Callable[[], Decimal]) -> None:
    """Count `source` (the largest bonus percent it pays on a deposit now) in the credit bonus;
    called from an AppConfig.ready(), once per source."""
    if source not in _sources:
        _sources.append(source)


def coupon_bonus_percent() -> Decimal:
    """The largest bonus, as a percent of the deposit, that a usable coupon pays now."""
    usable = Coupon.objects.filter(is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")),
    )
    largest = ZERO
    for percent, amount, minimum in usable.values_list(
        "bonus_percent", "bonus_amount", "min_deposit"
    ):
        fixed = amount * HUNDRED / minimum if minimum > ZERO else ZERO
        largest = max(largest, percent + fixed)
    return largest


def credit_bonus_percent() -> Decimal:
    """The largest bonus a deposit can earn now, as a percent of the deposit (0: credit costs
    its face)."""
    return coupon_bonus_percent() + sum((source() for source in _sources), ZERO)
