"""Typed values the upstream client returns. Money is always Decimal, ids are always str."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True)
class UpstreamService:
    upstream_id: str
    name: str
    type: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool
    description: str


@dataclass(frozen=True)
class UpstreamProduct:
    upstream_id: str
    name: str
    category: str
    rate: Decimal
    min: int
    max: int
    require: str
    stock_status: str
    is_in_stock: bool
    inventory: int | None
    type: str  # "Auto" or "Service"


@dataclass(frozen=True)
class UpstreamBalance:
    balance: Decimal
    currency: str


class UpstreamOrderStatus(NamedTuple):
    """One order's status answer. A named tuple, not a frozen dataclass: a poll reads one per
    order, and a frozen dataclass sets each field through `object.__setattr__`."""

    status: str
    charge: Decimal | None
    start_count: int | None
    remains: int | None
    currency: str | None


@dataclass(frozen=True)
class UpstreamProductOrderStatus:
    status: str
    charge: Decimal | None
    result: str
    note: str


@dataclass(frozen=True)
class ItemError:
    """One entry of a batch answer that failed ({"error": …} or a bare string).

    `is_outcome_unknown` is set when the entry is missing or unreadable rather than refused: for
    a batch `refill` or `cancel` the provider may still have acted on that id.
    """

    message: str
    is_outcome_unknown: bool = field(default=False, compare=False)
