"""Money, numbers and statuses as the customer's language writes them: the one place templates
format them (`{% load panel_format %}`). Formatting itself lives in core.money."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import BalanceTransaction
from core.money import (
    amount_text,
    money_text,
    number_text,
    parse_money,
)
from orders.forms import OrderForm
from orders.lifecycle.events import REJECTED_NOTE_PREFIX
from orders.models import STATUS_NAMES

register = template.Library()


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


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
    return money_text(amount, currency=currency or settings.PANEL_CURRENCY, language=_language())


@register.filter
def rate(value: object, currency: str = "") -> str:
    """`{{ service.rate|rate }}`: a price per 1000 or per unit with every stored digit
    ("0,27819 USD"), where `money` rounds to the currency's places."""
    price = _decimal(value)
    if price is None:
        return "" if value is None else str(value)
    return money_text(
        price, currency=currency or settings.PANEL_CURRENCY, language=_language(), exact=True
    )


@register.filter
def amount(value: object, options: str = "") -> str:
    """`{{ amount|amount }}`: the amount without its currency (a column says which);
    `{{ amount|amount:"signed" }}` writes credits with a plus."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return amount_text(
        number,
        currency=settings.PANEL_CURRENCY,
        language=_language(),
        signed=options == "signed",
    )


@register.filter
def number(value: object) -> str:
    """`{{ count|number }}`: a count or quantity grouped by thousands ("10.000" / "10,000")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return number_text(value, language=_language())
    figure = _decimal(value)
    if figure is None:
        return "" if value is None else str(value)
    return number_text(figure, language=_language())


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


@register.filter
def event_note(value: object) -> str:
    """An order event's note in the reader's language when it is one the panel writes (marked
    for the catalog where it is written); a person's own words are shown as they are."""
    text = str(value or "")
    if text.startswith(REJECTED_NOTE_PREFIX):
        reason = text.removeprefix(REJECTED_NOTE_PREFIX)
        return gettext("Rejected by the provider: %(reason)s") % {"reason": reason}
    return gettext(text) if text else ""


@register.filter
def ledger_memo(entry: BalanceTransaction) -> str:
    """A balance history memo in the reader's language. Charges and refunds of orders are told
    from their kind and ids (the stored memo is English, for admins); the words of an admin's
    deposit or adjustment are shown as written."""
    Kind = BalanceTransaction.Kind
    if entry.kind == Kind.REFUND and entry.refill_id:
        return gettext("Refund for refill #%(id)s") % {"id": entry.refill_id}
    if entry.kind not in (Kind.CHARGE, Kind.REFUND) or not (
        entry.order_id or entry.product_order_id
    ):
        return gettext(entry.memo) if entry.memo else ""
    values: dict[str, object] = {"id": entry.order_id or entry.product_order_id}
    if entry.kind == Kind.CHARGE:
        values["item"] = entry.memo.partition(": ")[2]
        if entry.order_id:
            return gettext("Order #%(id)s: %(item)s") % values
        return gettext("Product order #%(id)s: %(item)s") % values
    # "Refund for order 12 (partial)": the final status, when given, is in the brackets.
    status = entry.memo.rpartition("(")[2].rstrip(")").capitalize()
    if entry.memo.endswith(")") and status in STATUS_NAMES:
        values["status"] = status_label(status)
        if entry.order_id:
            return gettext("Refund for order #%(id)s (%(status)s)") % values
        return gettext("Refund for product order #%(id)s (%(status)s)") % values
    if entry.order_id:
        return gettext("Refund for order #%(id)s") % values
    return gettext("Refund for product order #%(id)s") % values
