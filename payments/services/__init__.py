"""Every write to deposits: receiving transfers, starting and confirming payments, crediting
(exactly once, with the bonus), the admin's assign/reject and manual deposits."""

from payments.services.coupons import (
    bank_coupon_choose,
    bank_coupon_clear,
    bank_coupon_of,
    deposit_coupon_quote,
)
from payments.services.crediting import (
    DepositOutcome,
    deposit_assign,
    deposit_create_manual,
    deposit_reject,
)
from payments.services.reversals import (
    deposit_by_payment,
    deposit_payer_record,
    deposit_reversal_record,
)
from payments.services.started import (
    deposit_abandon,
    deposit_attach_external,
    deposit_close_unpaid,
    deposit_confirm_paid,
    deposit_mark_review,
    deposit_start,
)
from payments.services.transfers import deposit_receive_transfer

__all__ = [
    "DepositOutcome",
    "bank_coupon_choose",
    "bank_coupon_clear",
    "bank_coupon_of",
    "deposit_coupon_quote",
    "deposit_abandon",
    "deposit_assign",
    "deposit_attach_external",
    "deposit_by_payment",
    "deposit_payer_record",
    "deposit_reversal_record",
    "deposit_close_unpaid",
    "deposit_confirm_paid",
    "deposit_create_manual",
    "deposit_mark_review",
    "deposit_receive_transfer",
    "deposit_reject",
    "deposit_start",
]
