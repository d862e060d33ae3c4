"""Decimal formatting and JSON encoding that never goes through float."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CHARGE_PLACES = Decimal("0.000001")

# json cannot write a Decimal as a number without float(); we write a marked
# string and strip its quotes afterwards, so 2.5 stays exactly 2.5.
_MARK = "\u0000dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def decimal_str(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal("2.50") -> "2.5", 1E+2 -> "100"."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def quantize_charge(value: Decimal) -> Decimal:
    return value.quantize(CHARGE_PLACES, rounding=ROUND_HALF_UP)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + decimal_str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    text = json.dumps(payload, default=_default, separators=(",", ":"))
    if "\\u0000dec:" in text:
        text = _MARKED.sub(r"\1", text)
    return text.encode()
