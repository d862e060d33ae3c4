"""Every write of the affiliates app: referral links and sign-ups, the settle pass, payouts."""

from affiliates.services.payouts import commission_move_to_balance, payout_decide, payout_request
from affiliates.services.referrals import (
    affiliate_ensure,
    affiliate_visit,
    referral_record_signup,
    referral_review,
    referral_set_referrer,
)
from affiliates.services.settle import SettleResult, affiliate_settle

__all__ = [
    "SettleResult",
    "affiliate_ensure",
    "affiliate_settle",
    "affiliate_visit",
    "commission_move_to_balance",
    "payout_decide",
    "payout_request",
    "referral_record_signup",
    "referral_review",
    "referral_set_referrer",
]
