"""The ledger memos the accounts app writes (core.memos): stored as codes, shown in the reader's
language. A code is kept in rows: never rename one."""

from django.utils.translation import gettext_lazy as _

from core.memos import define

OPENING_BALANCE = define("opening_balance", _("Opening balance"))
COUPON_BONUS = define("coupon_bonus", _("Coupon %(code)s on deposit %(deposit)s"))
