"""The demo's money in the panel currency: the sandbox provider bills in US dollars, and the demo's
balances, deposits and prices are written in dollars and converted here, so `make run` works
in đồng (the default of a Vietnamese panel) as well as in dollars."""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError

# What one US dollar is worth in each currency the demo runs in: a round figure near the
# market's, so the demo's prices read like a Vietnamese panel's (0.50 USD per 1000 upstream is
# 12.500 ₫ before the markup).
DEMO_DOLLAR_RATES = {"USD": Decimal(1), "VND": Decimal(25_000)}


def demo_dollar_rate() -> Decimal:
    """What one US dollar (the sandbox's currency) is worth in the panel currency."""
    rate = DEMO_DOLLAR_RATES.get(settings.PANEL_CURRENCY.upper())
    if rate is None:
        raise CommandError(
            f"The demo runs in {' or '.join(DEMO_DOLLAR_RATES)}, not {settings.PANEL_CURRENCY}: "
            "set PANEL_CURRENCY to one of them (or register a provider of your own)"
        )
    return rate


def demo_amount(dollars: Decimal | int | str) -> Decimal:
    """A demo amount written in dollars, in the panel currency."""
    return Decimal(dollars) * demo_dollar_rate()
