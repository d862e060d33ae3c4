"""Every write of the reconciliation: snapshots, reconciled days, resolutions."""

from reconciliation.services.days import (
    ProviderUnreachable,
    provider_day_reconcile,
    reconciliation_due,
    refund_lag,
)
from reconciliation.services.resolutions import (
    MOVES,
    NEEDS_NOTE,
    ResolutionRefused,
    mismatch_resolve,
    resolutions_for,
)
from reconciliation.services.snapshots import balance_snapshot_take, balance_snapshots_take

__all__ = [
    "MOVES",
    "NEEDS_NOTE",
    "ProviderUnreachable",
    "ResolutionRefused",
    "balance_snapshot_take",
    "balance_snapshots_take",
    "mismatch_resolve",
    "provider_day_reconcile",
    "reconciliation_due",
    "refund_lag",
    "resolutions_for",
]
