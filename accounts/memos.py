"""The ledger memos the accounts app writes (core.memos): stored as codes, shown in the reader's
language. A code is kept in rows: never rename one."""

from django.utils.translation import gettext_lazy as _

from core.memos import as_money, define

OPENING_BALANCE = define("opening_balance", _("Opening balance"))
COUPON_BONUS = define("coupon_bonus", _("Coupon %(code)s on deposit %(deposit)s"))
# Why a coupon was not applied, kept in a deposit's coupon note (payments.memos): the minimum is
# stored as a figure, written in the reader's notation.
COUPON_NEEDS_DEPOSIT = define(
    "coupon_needs_deposit",
    _("This coupon needs a deposit of at least %(amount)s"),
    amount=as_money,
)
