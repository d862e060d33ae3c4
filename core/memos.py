"""Text the panel writes now for people to read later (a ledger line's memo, an order event's
note), stored as a code and its parameters and put into words in the reader's language when it
is shown (docs/translating.md#what-the-panel-stores).

Each app defines the memos it writes in its own `memos` module, imported by its AppConfig so
every process knows every code before it renders one:

    DEPOSIT = define("deposit", _("Deposit: %(gateway)s #%(id)s"), gateway=gateway_label)
    balance_credit(..., memo=DEPOSIT(gateway="sepay", id=12))

The row keeps the code and the parameters (a JSON object); `render` writes the sentence in the
active language, each parameter through its formatter (a status code becomes its label). What a
person typed (an adjustment's reason) is stored as plain text and shown as typed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise

from core.money import money_shown, money_str, number_shown, parse_money

# A parameter is stored in a JSON column: text, a number, or an earlier memo as an object.
Param = str | int | dict[str, Any]
Formatter = Callable[[Any], object]


@dataclass(frozen=True)
class Memo:
    """One stored sentence: its code and parameters, ready for a JSON column."""

    code: str
    params: dict[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self.code, self.params)


# Where a memo or a person's own words may go: a parameter of type Text accepts both.
Text = str | Memo


@dataclass(frozen=True)
class MemoKind:
    code: str
    text: Promise
    formatters: Mapping[str, Formatter]

    def __call__(self, **params: Param) -> Memo:
        return Memo(self.code, params)


_KINDS: dict[str, MemoKind] = {}


def is_defined(code: str) -> bool:
    return code in _KINDS


def define(code: str, text: Promise, **formatters: Formatter) -> MemoKind:
    """Register the memo `code`: `text` (gettext_lazy, with %(name)s placeholders) and how any
    parameter other than plain text is written. A code is stored in rows: never rename one."""
    if is_defined(code):
        raise ValueError(f"The memo code {code!r} is defined twice")
    kind = MemoKind(code, text, formatters)
    _KINDS[code] = kind
    return kind


class _Values(dict[str, object]):
    # A parameter a newer or older writer left out reads as nothing rather than breaking a page.
    def __missing__(self, key: str) -> str:
        return ""


def render(code: str, params: Mapping[str, Any] | None = None, *, fallback: str = "") -> str:
    """The memo `code` with its `params` in the active language; `fallback` (the stored free
    text) when there is no code, and the code itself when no app defines it."""
    if not code:
        return fallback
    kind = _KINDS.get(code)
    if kind is None:
        return fallback or code
    values = _Values()
    for name, value in (params or {}).items():
        formatter = kind.formatters.get(name)
        values[name] = str(formatter(value)) if formatter is not None else value
    return str(kind.text) % values


def columns(text: Text, *, prefix: str, max_length: int) -> dict[str, object]:
    """The three columns `text` is stored in: `<prefix>` (a person's words), `<prefix>_code`
    and `<prefix>_params` (a memo the panel wrote)."""
    if isinstance(text, Memo):
        return {prefix: "", f"{prefix}_code": text.code, f"{prefix}_params": dict(text.params)}
    return {prefix: text[:max_length], f"{prefix}_code": "", f"{prefix}_params": {}}


def money_formatter(*, currency: str = "", exact: bool = False) -> Formatter:
    """A formatter for an amount as the active language writes it with its currency. The amount
    is stored as its plain decimal text in `currency` (empty: the served panel's at render
    time), or with its own currency as {"amount": "1", "currency": "USD"} (older rows kept the
    text "1.00 USD"); `exact` keeps every stored digit. What is not a number ("?": not known)
    is shown as stored."""

    def formatter(value: object) -> str:
        amount, its_currency = amount_and_currency(value)
        try:
            figure = parse_money(amount)
        except ValueError:
            return str(value)
        return money_shown(figure, currency=its_currency or currency, exact=exact)

    return formatter


def money_param(amount: Decimal, *, currency: str) -> dict[str, Any]:
    """An amount stored with its own currency, for a `money_formatter` parameter."""
    return {"amount": money_str(amount), "currency": currency.upper()}


def amount_and_currency(value: object) -> tuple[object, str]:
    """A stored amount and its own currency ("" when it was stored without one) from any shape
    `money_formatter` reads."""
    if isinstance(value, dict):
        return value.get("amount"), str(value.get("currency") or "")
    if isinstance(value, str) and len(words := value.split()) == 2 and words[1].isalpha():
        return words[0], words[1]
    return value, ""


# An amount in the panel currency, stored as its plain decimal text.
as_money = money_formatter()


def as_number(value: object) -> str:
    """A formatter: a count or figure without a currency (stored as a number or its text) as
    the active language groups and writes it; what is not a number as stored."""
    try:
        figure = parse_money(value)
    except ValueError:
        return str(value)
    return number_shown(figure)
