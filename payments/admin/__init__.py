"""Admin: deposits with filters, the unmatched/review queue with "assign to user" and "reject",
gateway settings (credentials write-only), the bank accounts, bonus rules, and manual deposits
from the user page. One module per concern; importing them registers their admins."""

from payments.admin import bank_accounts, bonuses, deposits, gateways, reversals, users
from payments.admin.deposits import also_reported

__all__ = [
    "also_reported",
    "bank_accounts",
    "bonuses",
    "deposits",
    "gateways",
    "reversals",
    "users",
]
