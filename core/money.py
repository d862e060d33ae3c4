"""The one place that knows how money is stored, rounded and written out.

Every amount in the panel is a Decimal with MONEY_PLACES decimal places. Rounding happens only
through `quantize_money`; the rounding mode is always named by the caller's intent.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import models

MONEY_DIGITS = 20
MONEY_PLACES = 6
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
ZERO = Decimal(0)


def money_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def quantize_money(value: Decimal, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(MONEY_QUANTUM, rounding=rounding)


def money_str(value: Decimal) -> str:
    """Shortest plain-decimal text for an amount: "2.5", "0.27819", "100" (never "1E+2")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def parse_money(value: object) -> Decimal:
    """Decimal from user or upstream input; raises ValueError for anything not a finite number."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def balance_str(value: Decimal) -> str:
    """A balance as panels write it: at least two decimals ("25.00", "68.6868")."""
    text = money_str(value)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def money_json_number(value: Decimal) -> int | float:
    """A JSON number for the answers whose protocol types are numbers (products).

    Only for output: the float is built from the exact decimal text, and its repr gives that
    text back, so what goes on the wire is the decimal itself.
    """
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return int(normalized)
    return float(format(normalized, "f"))
