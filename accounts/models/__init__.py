"""The accounts app's models, one module per concern (the app's models module grew past what
one file reads well); everything is importable from `accounts.models` as before. The child
panels' models live in accounts.child_panels and are imported here so the app registers them."""

from accounts.child_panels import (
    CHILD_PANEL_PERMISSIONS,
    CHILD_PANEL_ROLE_NAMES,
    CHILD_PANEL_ROLES,
    ChildPanel,
    ChildPanelCharge,
    ChildPanelLogo,
    ChildPanelState,
    SuspendedReason,
)
from accounts.models.access import ApiKey, RecoveryCode, TwoFactorDevice
from accounts.models.ledger import (
    BalanceTransaction,
    CommissionTransaction,
    LedgerArchivedKey,
    LedgerArchivedTotal,
)
from accounts.models.pricing import Coupon, CouponRedemption, PricingTier
from accounts.models.submissions import FormSubmission
from accounts.models.users import ChildPanelStaff, User, UserManager

__all__ = [
    "CHILD_PANEL_PERMISSIONS",
    "CHILD_PANEL_ROLES",
    "CHILD_PANEL_ROLE_NAMES",
    "ApiKey",
    "BalanceTransaction",
    "ChildPanel",
    "ChildPanelCharge",
    "ChildPanelLogo",
    "ChildPanelStaff",
    "ChildPanelState",
    "CommissionTransaction",
    "Coupon",
    "CouponRedemption",
    "FormSubmission",
    "LedgerArchivedKey",
    "LedgerArchivedTotal",
    "PricingTier",
    "RecoveryCode",
    "SuspendedReason",
    "TwoFactorDevice",
    "User",
    "UserManager",
]
