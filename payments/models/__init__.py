"""The payments app's models, one module per concern (the app's models module grew past what
one file reads well); everything is importable from `payments.models` as before."""

from payments.models.bonuses import BankCoupon, BonusRule
from payments.models.deposits import Deposit, DepositReversal, TransferReport, UnmatchedDeposit
from payments.models.gateways import (
    RATE_DIGITS,
    RATE_PLACES,
    BankAccount,
    Gateway,
    GatewaySettings,
    Method,
    gateway_choices,
    method_choices,
)

__all__ = [
    "RATE_DIGITS",
    "RATE_PLACES",
    "BankAccount",
    "BankCoupon",
    "BonusRule",
    "Deposit",
    "DepositReversal",
    "Gateway",
    "GatewaySettings",
    "Method",
    "TransferReport",
    "UnmatchedDeposit",
    "gateway_choices",
    "method_choices",
]
