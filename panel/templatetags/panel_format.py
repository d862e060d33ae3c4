"""Money, numbers and statuses as the customer's language writes them: the one place templates
format them (`{% load panel_format %}`). Formatting itself lives in core.money."""

from decimal import Decimal

from django import template

from core.money import (
    amount_text,
    money_shown,
    number_shown,
    panel_currency,
    parse_money,
    reader_language,
)
from orders.forms import OrderForm
from orders.models import STATUS_NAMES

register = template.Library()


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_money(value)
    except ValueError:
        return None


@register.filter
def money(value: object, currency: str = "") -> str:
    """`{{ amount|money }}` → "1.234.567 ₫" / "1,234.56 USD" (the panel currency by default)."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    return money_shown(amount, currency=currency)


@register.filter
def rate(value: object, currency: str = "") -> str:
    """`{{ service.rate|rate }}`: a price per 1000 or per unit with every stored digit
    ("0,27819 USD"), where `money` rounds to the currency's places."""
    price = _decimal(value)
    if price is None:
        return "" if value is None else str(value)
    return money_shown(price, currency=currency, exact=True)


@register.filter
def amount(value: object, options: str = "") -> str:
    """`{{ amount|amount }}`: the amount without its currency (a column says which);
    `{{ amount|amount:"signed" }}` writes credits with a plus."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return amount_text(
        number,
        currency=panel_currency(),
        language=reader_language(),
        signed=options == "signed",
    )


@register.filter
def number(value: object) -> str:
    """`{{ count|number }}`: a count or quantity grouped by thousands ("10.000" / "10,000")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return number_shown(value)
    figure = _decimal(value)
    if figure is None:
        return "" if value is None else str(value)
    return number_shown(figure)


@register.filter
def status_label(value: object) -> str:
    """An order, refill or product order status in the reader's language (the stored value and
    the API keep the protocol's English)."""
    return str(STATUS_NAMES.get(str(value), value))


@register.filter
def detail_label(name: str) -> str:
    """An order detail's name (`posts`, `usernames`) as the order form labels it."""
    field = OrderForm.base_fields.get(name)
    return str(field.label) if field is not None and field.label else name.capitalize()
