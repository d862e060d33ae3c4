"""Selling prices from upstream rates: currency conversion, then the most specific markup rule."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from core.money import ZERO, panel_currency, price_quantum

HUNDRED = Decimal(100)
THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Markup:
    percent: Decimal
    fixed: Decimal


def rule_at(percent: Decimal | None, fixed: Decimal | None) -> Markup | None:
    """A level (service, category, provider) has a rule when it sets a percent, a fixed part, or both."""
    if percent is None and fixed is None:
        return None
    return Markup(percent=percent or ZERO, fixed=fixed or ZERO)


def effective_markup(*levels: Markup | None) -> Markup:
    """The first rule among levels ordered from most to least specific; no rule means no markup."""
    for level in levels:
        if level is not None:
            return level
    return Markup(percent=ZERO, fixed=ZERO)


def selling_rate(*, upstream_rate: Decimal, exchange_rate: Decimal, markup: Markup) -> Decimal:
    """Upstream rate in the provider currency → selling rate in the panel currency.

    Rounded up (to whole units in a currency without decimals, core.money.price_quantum), so
    the panel never sells below the markup it was told to take.
    """
    in_panel_currency = upstream_rate * exchange_rate
    marked_up = in_panel_currency * (HUNDRED + markup.percent) / HUNDRED + markup.fixed
    quantum = price_quantum(panel_currency())
    return max(marked_up.quantize(quantum, rounding=ROUND_CEILING), ZERO)


def customer_rate(*, rate: Decimal, discount_percent: Decimal) -> Decimal:
    """The price a customer sees per 1000 (per package, per product unit) after their discount."""
    if not discount_percent:
        return rate
    quantum = price_quantum(panel_currency())
    return (rate * (HUNDRED - discount_percent) / HUNDRED).quantize(quantum, rounding=ROUND_HALF_UP)


def unit_price(*, rate_per_1000: Decimal) -> Decimal:
    """What one unit costs at a price per 1000 (12.500 ₫ per 1000 is 12,5 ₫ a like), for
    showing only: charges are computed from the rate per 1000 (orders.pricing)."""
    return rate_per_1000 / THOUSAND


def clears_margin(*, price: Decimal, cost: Decimal, min_margin_percent: Decimal) -> bool:
    """Whether selling at `price` keeps at least `min_margin_percent` over `cost` (the margin
    guard's one rule, for a catalog price and for one order's charge alike)."""
    return price >= cost * (HUNDRED + min_margin_percent) / HUNDRED
