"""Order prices and refunds. Per-1000 pricing is computed here and nowhere else; all rounding
goes through core.money.quantize_money with the mode named here."""

from decimal import ROUND_HALF_UP, Decimal

from core.money import ZERO, quantize_money
from providers.markup import customer_rate

__all__ = ["customer_rate", "order_charge", "partial_refund", "product_charge", "upstream_cost"]

THOUSAND = Decimal(1000)


def order_charge(*, rate: Decimal, units: int, is_package: bool) -> Decimal:
    """rate × units / 1000, or the flat rate for package types (rate is then per package)."""
    if is_package:
        return quantize_money(rate, rounding=ROUND_HALF_UP)
    return quantize_money(rate * units / THOUSAND, rounding=ROUND_HALF_UP)


def upstream_cost(
    *, upstream_rate: Decimal, units: int, is_package: bool, exchange_rate: Decimal
) -> Decimal:
    """What the provider will charge, converted to the panel currency at the frozen rate."""
    provider_amount = upstream_rate if is_package else upstream_rate * units / THOUSAND
    return quantize_money(provider_amount * exchange_rate, rounding=ROUND_HALF_UP)


def product_charge(*, rate: Decimal, quantity: int) -> Decimal:
    return quantize_money(rate * quantity, rounding=ROUND_HALF_UP)


def converted(*, amount: Decimal, exchange_rate: Decimal) -> Decimal:
    return quantize_money(amount * exchange_rate, rounding=ROUND_HALF_UP)


def partial_refund(*, charge: Decimal, remains: int | None, total_quantity: int) -> Decimal:
    """charge × remains / quantity, with remains clamped to [0, quantity].

    Never more than the charge; rounded half-up at the money precision, which cannot exceed
    the charge because the charge itself sits on that precision.
    """
    if not remains or remains <= 0 or total_quantity <= 0:
        return ZERO
    remains = min(remains, total_quantity)
    return quantize_money(charge * remains / total_quantity, rounding=ROUND_HALF_UP)


def undelivered_share_refund(
    *, charge: Decimal, upstream_charge: Decimal, upstream_expected: Decimal
) -> Decimal:
    """Refund for a partial product order: the share upstream did not charge for."""
    if upstream_expected <= ZERO:
        return ZERO
    delivered = min(max(upstream_charge / upstream_expected, ZERO), Decimal(1))
    return quantize_money(charge * (1 - delivered), rounding=ROUND_HALF_UP)
