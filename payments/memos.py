"""The ledger memos the payments app writes (core.memos): stored as codes, shown in the reader's
language. A code is kept in rows: never rename one."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import memos
from core.memos import as_money, define, money_formatter
from payments.models import Gateway


def _gateway(value: object) -> str:
    """A gateway's name in the reader's language (a gateway no longer offered: its code)."""
    return str(dict(Gateway.choices).get(str(value), value))


DEPOSIT = define("deposit", _("Deposit: %(gateway)s #%(id)s"), gateway=_gateway)
# An admin credited another amount than what arrived: the figures and their typed reason. The
# figures are stored with the customer's currency (a child panel's own); older rows hold plain
# text, read in the served panel's.
DEPOSIT_OTHER_AMOUNT = define(
    "deposit_other_amount",
    _("Deposit: %(gateway)s #%(id)s (%(credited)s instead of %(arrived)s: %(reason)s, %(admin)s)"),
    gateway=_gateway,
    credited=as_money,
    arrived=as_money,
)
DEPOSIT_BONUS = define("deposit_bonus", _("Bonus on %(gateway)s #%(id)s"), gateway=_gateway)


# --- A deposit's reason and coupon note -------------------------------------------------------


def _catalog_id(value: object) -> str:
    """A sentence the panel marked with gettext_noop, in the reader's language."""
    return gettext(str(value)) if value else ""


def _reason(value: object) -> str:
    """A reason stored as a memo (a code and parameters, or its text: the reason a deposit had
    before), or as a sentence the panel marked with gettext_noop."""
    if not isinstance(value, dict):
        return _catalog_id(value)
    text = str(value.get("text") or "")
    return memos.render(
        str(value.get("code") or ""), value.get("params") or {}, fallback=_catalog_id(text)
    )


# Amounts each with its own currency (core.memos.money_param), as the gateway reported them:
# not the panel's. Every digit is kept, or a payment a fraction of a cent short reads as the
# amount asked.
_EXACT_MONEY = money_formatter(exact=True)
PAID_OTHER_AMOUNT = define(
    "paid_other_amount", _("paid %(paid)s for %(asked)s"), paid=_EXACT_MONEY, asked=_EXACT_MONEY
)
PAID_AFTER_REJECTED = define(
    "paid_after_rejected", _("paid after it was rejected (%(before)s)"), before=_reason
)
# A bank transfer's limits, always in đồng (payments.config), stored as plain decimal text.
_DONG = money_formatter(currency="VND")
BELOW_MINIMUM = define("below_minimum", _("below the minimum of %(amount)s"), amount=_DONG)
ABOVE_MAXIMUM = define("above_maximum", _("above the maximum of %(amount)s"), amount=_DONG)
COUPON_APPLIED = define("coupon_applied", _("Coupon %(code)s: bonus %(bonus)s"), bonus=as_money)
COUPON_NOT_APPLIED = define(
    "coupon_not_applied", _("Coupon %(code)s not applied: %(reason)s"), reason=_reason
)
