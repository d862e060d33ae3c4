"""One upstream record (a service, a product, an order's status) into its typed value."""

import re
from decimal import Decimal
from typing import Any

from providers.client.parsing import (
    KEYED_ID,
    field,
    record,
    service_type,
    squash,
    status_name,
    to_bool,
    to_decimal,
    to_id,
    to_int,
    to_text,
)
from providers.client.types import (
    UpstreamOrderStatus,
    UpstreamProduct,
    UpstreamProductOrderStatus,
    UpstreamService,
)


class BadRecord(ValueError):
    """A catalog entry that cannot be sold safely; the message says why (no secrets in it)."""


def _limits(rec: dict[str, Any], *, default_min: int) -> tuple[int, int]:
    raw_min, raw_max = field(rec, "min"), field(rec, "max")
    minimum = default_min if raw_min in (None, "") else to_int(raw_min)
    maximum = to_int(raw_max)
    if minimum is None or minimum < 0:
        raise BadRecord(f"unreadable min {raw_min!r}")
    # Without a maximum the panel could sell quantities the provider never accepts.
    if maximum is None or maximum < minimum:
        raise BadRecord(f"unreadable max {raw_max!r}")
    return minimum, maximum


def _rate(rec: dict[str, Any]) -> Decimal:
    raw = field(rec, "rate", "price")
    rate = to_decimal(raw)
    if rate is None or rate < 0:
        raise BadRecord(f"unreadable rate {raw!r}")
    return rate


def _upstream_id(rec: dict[str, Any], name: str) -> str:
    upstream_id = to_id(field(rec, name, "id", f"{name}_id", KEYED_ID))
    if upstream_id is None:
        raise BadRecord(f"missing {name} id")
    return upstream_id


def parse_service(raw: Any) -> UpstreamService:
    rec = record(raw)
    if rec is None:
        raise BadRecord("entry is not an object")
    minimum, maximum = _limits(rec, default_min=1)
    return UpstreamService(
        upstream_id=_upstream_id(rec, "service"),
        name=to_text(field(rec, "name")),
        type=service_type(field(rec, "type")),
        category=to_text(field(rec, "category")),
        rate=_rate(rec),
        min=minimum,
        max=maximum,
        refill=to_bool(field(rec, "refill")),
        cancel=to_bool(field(rec, "cancel")),
        dripfeed=to_bool(field(rec, "dripfeed")),
        description=to_text(field(rec, "desc", "description")),
    )


_PRODUCT_TYPES = {"auto": "Auto", "service": "Service"}
_OUT_OF_STOCK = re.compile(
    r"\bout\b|\bsold\b|\bunavailable\b|\bnot\s+available\b|\bno\s+stock\b", re.IGNORECASE
)
_IN_STOCK = re.compile(r"\bin\s*stock\b|\bavailable\b", re.IGNORECASE)


def _stock(rec: dict[str, Any]) -> tuple[str, bool, int | None]:
    inventory = to_int(field(rec, "inventory", "stock"))
    if inventory is not None and inventory < 0:
        inventory = None
    raw_status = field(rec, "status", "stock_status")
    text = to_text(raw_status)
    if isinstance(raw_status, bool | int):
        is_in_stock = bool(raw_status)
    elif _OUT_OF_STOCK.search(text):
        is_in_stock = False
    elif _IN_STOCK.search(text):
        is_in_stock = True
    else:
        is_in_stock = inventory is None or inventory > 0
    if isinstance(raw_status, str) and raw_status.strip():
        stock_status = raw_status.strip()
    else:
        stock_status = "In stock" if is_in_stock else "Out of stock"
    return stock_status, is_in_stock, inventory


def parse_product(raw: Any) -> UpstreamProduct:
    rec = record(raw)
    if rec is None:
        raise BadRecord("entry is not an object")
    minimum, maximum = _limits(rec, default_min=1)
    stock_status, is_in_stock, inventory = _stock(rec)
    kind = to_text(field(rec, "type"))
    return UpstreamProduct(
        upstream_id=_upstream_id(rec, "product"),
        name=to_text(field(rec, "name")),
        category=to_text(field(rec, "category")),
        rate=_rate(rec),
        min=minimum,
        max=maximum,
        require=to_text(field(rec, "require", "requirement", "required")),
        stock_status=stock_status,
        is_in_stock=is_in_stock,
        inventory=inventory,
        # Unknown means manual delivery: the panel then waits for a result instead of
        # expecting one at once.
        type=_PRODUCT_TYPES.get(kind.lower(), kind or "Service"),
    )


# An order status entry's keys as `record` squashes them, looked up directly: `field` for
# each of them was a third of reading an entry, and a poll reads one per polled order.
STATUS_KEY, _CHARGE, _START_COUNT, _REMAINS, _CURRENCY = map(
    squash, ("status", "charge", "start_count", "remains", "currency")
)


def order_status_of(rec: dict[str, Any]) -> UpstreamOrderStatus | None:
    """An order's status entry already read with `record`; None when it carries no status
    (the caller decides if that is an error)."""
    status = status_name(rec.get(STATUS_KEY))
    if status is None:
        return None
    currency = to_text(rec.get(_CURRENCY)).upper()
    return UpstreamOrderStatus(
        status=status,
        charge=to_decimal(rec.get(_CHARGE)),
        start_count=to_int(rec.get(_START_COUNT)),
        remains=to_int(rec.get(_REMAINS)),
        currency=currency or None,
    )


def product_order_status_of(rec: dict[str, Any]) -> UpstreamProductOrderStatus | None:
    """A product order's status entry already read with `record`; None without a status."""
    status = status_name(field(rec, "status"))
    if status is None:
        return None
    return UpstreamProductOrderStatus(
        status=status,
        charge=to_decimal(field(rec, "charge")),
        result=to_text(field(rec, "result")),
        note=to_text(field(rec, "note")),
    )
