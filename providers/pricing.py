"""The one place that says what a customer pays for a service or product.

Resolution, in order:
1. the customer's own rate for the service (`PriceOverride`), taken as is;
2. otherwise the service's selling price less a percent: the larger of the customer's rank
   (`User.pricing_tier`, reached by total deposits or spend: accounts.ranks) and their personal
   discount (`User.discount_percent`), as `accounts.ranks.customer_percent_off` says. The two
   never stack: the personal discount stays as the admin's manual lever, and a rank only ever
   improves on it;
3. otherwise the service's selling price.

Products have no overrides: they take step 2 and 3. The services page, the order form, the v2
`services` answer and the charge all go through `customer_pricing(...)`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.ranks import customer_percent_off as customer_percent_off
from core.db.reads import ServiceForOrder
from core.money import ZERO
from providers.markup import customer_rate
from providers.models import PriceOverride, Service


@dataclass(frozen=True)
class CustomerPricing:
    percent_off: Decimal = ZERO
    overrides: Mapping[int, Decimal] = field(default_factory=dict)

    def service_rate(self, *, service_id: int, rate: Decimal) -> Decimal:
        """The customer's rate per 1000 (per package) for a service selling at `rate`."""
        override = self.overrides.get(service_id)
        if override is not None:
            return override
        return customer_rate(rate=rate, discount_percent=self.percent_off)

    def product_rate(self, *, rate: Decimal) -> Decimal:
        return customer_rate(rate=rate, discount_percent=self.percent_off)

    @property
    def cache_key(self) -> tuple:
        """Equal for customers who see the same prices: cached price lists are shared by it."""
        return (self.percent_off, tuple(sorted(self.overrides.items())))


ANONYMOUS = CustomerPricing()


def customer_pricing(
    *, user: User | AnonymousUser, service_ids: list[int] | None = None
) -> CustomerPricing:
    """How `user` is priced; `service_ids` narrows the overrides loaded (one order, one form)."""
    if not isinstance(user, User):
        return ANONYMOUS
    overrides = PriceOverride.objects.filter(user_id=user.pk)
    if service_ids is not None:
        overrides = overrides.filter(service_id__in=service_ids)
    return CustomerPricing(
        percent_off=customer_percent_off(user=user),
        overrides=dict(overrides.values_list("service_id", "rate")),
    )


def customer_pricing_of(
    *, user: User | AnonymousUser, found: ServiceForOrder[Service]
) -> CustomerPricing:
    """How `user` is priced for the one service `service_for_order` read with the user's own
    rate (providers.selectors), sparing the query that `customer_pricing` makes for it."""
    if not isinstance(user, User):
        return ANONYMOUS
    override = found.customer_override
    return CustomerPricing(
        percent_off=customer_percent_off(user=user),
        overrides={} if override is None else {found.service.pk: override},
    )
