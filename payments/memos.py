"""The ledger memos the payments app writes (core.memos): stored as codes, shown in the reader's
language. A code is kept in rows: never rename one."""

from django.utils.translation import gettext_lazy as _

from core.memos import as_money, define
from payments.models import Gateway


def _gateway(value: object) -> str:
    """A gateway's name in the reader's language (a gateway no longer offered: its code)."""
    return str(dict(Gateway.choices).get(str(value), value))


DEPOSIT = define("deposit", _("Deposit: %(gateway)s #%(id)s"), gateway=_gateway)
# An admin credited another amount than what arrived: the figures and their typed reason.
DEPOSIT_OTHER_AMOUNT = define(
    "deposit_other_amount",
    _("Deposit: %(gateway)s #%(id)s (%(credited)s instead of %(arrived)s: %(reason)s, %(admin)s)"),
    gateway=_gateway,
    credited=as_money,
    arrived=as_money,
)
DEPOSIT_BONUS = define("deposit_bonus", _("Bonus on %(gateway)s #%(id)s"), gateway=_gateway)
