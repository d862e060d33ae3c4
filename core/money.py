"""The one place that knows how money is stored, rounded and written out.

Every amount in the panel is a Decimal with MONEY_PLACES decimal places. Rounding happens only
through `quantize_money`; the rounding mode is always named by the caller's intent.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import translation

from core.tenancy import current_panel_currency

MONEY_DIGITS = 20
MONEY_PLACES = 6
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
ZERO = Decimal(0)


def panel_currency() -> str:
    """The served panel's currency: a child panel's own inside its scope (core.tenancy), else
    PANEL_CURRENCY. Also a field default: a callable, so migrations name this function instead
    of freezing one machine's PANEL_CURRENCY (VND or USD, by the panel's language), and a child
    panel's new customer holds his balance in the child's currency."""
    return current_panel_currency() or str(settings.PANEL_CURRENCY)


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


# --- Money and numbers as a customer reads them ---------------------------------------------
# Digits after the decimal point each currency is written with (ISO 4217 minor units). An amount
# is shown rounded to them ("0.44 USD", never "0,436625 USD": the ledger keeps the exact value);
# a rate per 1000 or per unit is a price of something smaller than the unit of money, so it keeps
# every stored digit (`exact=True`, the `rate` template filter).
CURRENCY_PLACES = {"VND": 0, "JPY": 0, "KRW": 0, "IDR": 0, "CLP": 0}
DEFAULT_CURRENCY_PLACES = 2
CURRENCY_SYMBOLS = {"VND": "₫"}
# (thousands separator, decimal separator) per language; English is the fallback.
NUMBER_SEPARATORS = {"en": (",", "."), "vi": (".", ",")}


def currency_places(currency: str) -> int:
    return CURRENCY_PLACES.get(currency.upper(), DEFAULT_CURRENCY_PLACES)


def price_quantum(currency: str) -> Decimal:
    """The finest step of a selling price (per 1000, per package): whole units in a currency
    written without decimals (a price per 1000 in whole đồng loses nothing a customer could
    pay, and is how Vietnamese panels write it), else every stored digit (0.27819 USD)."""
    return Decimal(1) if currency_places(currency) == 0 else MONEY_QUANTUM


def currency_label(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency.upper(), currency.upper())


def _separators(language: str) -> tuple[str, str]:
    return NUMBER_SEPARATORS.get(language.split("-")[0].lower(), NUMBER_SEPARATORS["en"])


def _grouped(whole: str, separator: str) -> str:
    head = len(whole) % 3 or 3
    parts = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    return separator.join(parts)


def number_text(value: Decimal | int, *, language: str, min_places: int = 0) -> str:
    """Digits grouped by thousands as `language` writes them ("1.234.567,5" in Vietnamese,
    "1,234,567.5" in English), with at least `min_places` decimals and every significant one."""
    group, point = _separators(language)
    if isinstance(value, int) and not min_places:  # counts and quantities: the common case
        return format(value, ",").replace(",", group)
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = money_str(abs(amount)).partition(".")
    fraction = fraction.ljust(min_places, "0")
    text = _grouped(whole, group)
    return f"{sign}{text}{point}{fraction}" if fraction else f"{sign}{text}"


def amount_text(
    value: Decimal, *, currency: str, language: str, signed: bool = False, exact: bool = False
) -> str:
    """An amount in `currency` without its label: the currency decides the decimals (VND none),
    rounded half up to them unless `exact` (rates keep every stored digit)."""
    places = currency_places(currency)
    if not exact:
        value = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = number_text(value, language=language, min_places=places)
    if signed and value > 0:
        return f"+{text}"
    # A true minus sign: the hyphen of negative numbers reads as a dash in a table.
    return text.replace("-", "−", 1)


def money_text(value: Decimal, *, currency: str, language: str, exact: bool = False) -> str:
    """An amount with its currency, as customers read it: "1.234.567 ₫", "1,234.56 USD"."""
    text = amount_text(value, currency=currency, language=language, exact=exact)
    return f"{text} {currency_label(currency)}"


def reader_language() -> str:
    """The language the page is being written in (the request's, or an override's)."""
    return translation.get_language() or settings.LANGUAGE_CODE


def money_shown(value: Decimal, *, currency: str = "", exact: bool = False) -> str:
    """`money_text` in the reader's language, in the panel currency unless another is named."""
    return money_text(
        value, currency=currency or panel_currency(), language=reader_language(), exact=exact
    )


def number_shown(value: Decimal | int) -> str:
    """`number_text` in the reader's language, every significant digit kept (exchange rates)."""
    return number_text(value, language=reader_language())


def percent_shown(value: Decimal | int) -> str:
    """A percent as the reader's language writes it: "2,5%" in Vietnamese, never "2.50"."""
    return f"{number_shown(value)}%"
