"""The one refund rule. Polling, cancels, rejections and an admin's resolutions all ask it.

Full on Canceled, nothing on Completed; on Partial the undelivered share, measured by the
provider's remains against the units those remains count (the refund *base*), else by the
share of the expected cost the provider did not charge. When neither figure exists the answer
is None: nothing tells what was delivered, and a person decides (Reason.PARTIAL_NO_FIGURES).

The base (docs/lifecycle.md, "Refund base"): for per-1000 types, `total_quantity` (quantity ×
runs for drip-feed). Package types are charged a flat rate for one package and `total_quantity`
is 1, so a remains of 3 says nothing about how much of the package is missing: measured against
1 it would refund the whole charge. A Custom Comments Package counts its comment lines (what
the provider delivers); a plain Package has no known size, so only the provider's charge
measures it. Product orders count their `quantity`.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import BalanceTransaction
from accounts.services import Credit
from core.money import ZERO
from orders import pricing
from orders.lifecycle.table import CANCELED, PARTIAL
from orders.memos import ORDER_REFUND, PRODUCT_ORDER_REFUND, REFILL_REFUND
from providers.models import PACKAGE_TYPES, ServiceType


@dataclass(frozen=True)
class Figures:
    """What a row's refund is measured with (built by `figures_of_*`)."""

    charge: Decimal
    refunded: Decimal
    base: int | None  # units the provider's remains count against; None: remains can't measure
    upstream_expected: Decimal  # the provider's price for all of it, provider currency


@dataclass(frozen=True)
class Delivery:
    """What the provider (or an admin) says about delivery at the end."""

    remains: int | None = None
    upstream_charge: Decimal | None = None  # provider currency


# The only statuses that can refund; finishing with any other refunds nothing, so a caller
# finishing thousands of rows (polling) need not gather their figures.
REFUNDING = frozenset({CANCELED, PARTIAL})


def refund_due(*, status: str, figures: Figures, delivery: Delivery) -> Decimal | None:
    """The refund still owed for finishing with `status`; None for a Partial nothing measures."""
    if status not in REFUNDING:
        return ZERO
    open_amount = figures.charge - figures.refunded
    if status == CANCELED:
        return open_amount
    if delivery.remains is not None and figures.base:
        refund = pricing.partial_refund(
            charge=figures.charge, remains=delivery.remains, total_quantity=figures.base
        )
    elif delivery.upstream_charge is not None and figures.upstream_expected > ZERO:
        refund = pricing.undelivered_share_refund(
            charge=figures.charge,
            upstream_charge=delivery.upstream_charge,
            upstream_expected=figures.upstream_expected,
        )
    else:
        return None
    return min(max(refund - figures.refunded, ZERO), open_amount)


def refill_refund_due(*, order: Figures, missing: int | None, paid_out: Decimal) -> Decimal:
    """What a refill that ends refunded pays back (docs/lifecycle.md, "Refills: the money").

    `charge × missing / base`, rounded half-up at the money precision, where `missing` is
    what the refill still lacks (the units it asked for, or what the panel's replacement
    order left undelivered) and `base` the order's refund base. Never more than what the
    order still holds: its charge less its own refund and what earlier refills paid out
    (`paid_out`). A package (no base) or a refill whose size is unknown gets all of that.
    """
    open_amount = max(order.charge - order.refunded - paid_out, ZERO)
    if missing is None or not order.base:
        return open_amount
    share = pricing.partial_refund(charge=order.charge, remains=missing, total_quantity=order.base)
    return min(share, open_amount)


def refill_missing_quantity(*, order: Figures, remains: int | None) -> int | None:
    """What a refill asks the provider for: every unit the order delivered (its base less the
    provider's remains), since the panel cannot count what dropped. None for a package."""
    if not order.base:
        return None
    return max(order.base - max(remains or 0, 0), 0)


def order_refund_base(*, service_type: str, total_quantity: int, details: dict) -> int | None:
    if service_type == ServiceType.CUSTOM_COMMENTS_PACKAGE:
        return len([line for line in str(details.get("comments", "")).split("\n") if line])
    if service_type in PACKAGE_TYPES:
        return None
    return total_quantity


def figures_of_order(values: dict) -> Figures:
    """From an order's values: charge, refunded, upstream_rate, total_quantity, details and
    service__type (a `.values()` row or `order_values(order)`). A poll's claimed row carries
    `package_details` instead of details: their JSON text, only for a comments package."""
    is_package = values["service__type"] in PACKAGE_TYPES
    units = values["total_quantity"]
    details = values.get("details")
    if details is None and (text := values.get("package_details")) is not None:
        details = json.loads(text)
    return Figures(
        charge=values["charge"],
        refunded=values["refunded"],
        base=order_refund_base(
            service_type=values["service__type"],
            total_quantity=units,
            details=details or {},
        ),
        upstream_expected=values["upstream_rate"]
        if is_package
        else values["upstream_rate"] * units / pricing.THOUSAND,
    )


def figures_of_product_order(values: dict) -> Figures:
    return Figures(
        charge=values["charge"],
        refunded=values["refunded"],
        base=values["quantity"],
        upstream_expected=values["upstream_rate"] * values["quantity"],
    )


_REFUND_MEMOS = {
    "order": ORDER_REFUND,
    "product_order": PRODUCT_ORDER_REFUND,
    "refill": REFILL_REFUND,
}


def refund_credit(*, kind: str, row_id: int, user_id: int, amount: Decimal, status: str) -> Credit:
    """The ledger credit of a refund (kind: "order", "product_order" or "refill")."""
    return Credit(
        user_id=user_id,
        amount=amount,
        kind=BalanceTransaction.Kind.REFUND,
        memo=_REFUND_MEMOS[kind](id=row_id, status=status),
        **{f"{kind}_id": row_id},
    )
