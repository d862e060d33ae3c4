"""One entry of an answer about a single order, refill or product order, read liberally.

A reader returns the typed value or an ItemError; the single-id calls turn that ItemError into
an exception, the batch calls keep it per id.
"""

from decimal import Decimal
from typing import Any

from providers.client.messages import humanise, looks_like_error
from providers.client.parsing import (
    error_text,
    field,
    id_key,
    record,
    record_error_text,
    squash,
    status_name,
    to_bool,
    to_id,
)
from providers.client.records import STATUS_KEY, order_status_of, product_order_status_of
from providers.client.types import ItemError, UpstreamOrderStatus, UpstreamProductOrderStatus
from providers.statuses import OrderStatus

MISSING_FROM_ANSWER = "missing from answer"
UNREADABLE = "unreadable answer"
NO_ID = "no usable id in answer"

_ACCEPTED_WORDS = frozenset(
    {"1", "true", "yes", "ok", "success", "accepted", "canceled", "cancelled"}
)
_REFUSED_WORDS = frozenset({"0", "false", "no"})
# The key that carries the value in each action's one-id answer ({"refill": "1"}).
_SINGLE_SHAPE_KEYS = {
    "status": "status",
    "product_order_status": "status",
    "refill": "refill",
    "refill_status": "status",
    "cancel": "cancel",
}


def unknown(message: str) -> ItemError:
    return ItemError(message, is_outcome_unknown=True)


def single_entry(data: Any, entry_id: str) -> Any:
    """The entry about `entry_id` in a one-id answer, also when it came in batch shape."""
    if isinstance(data, list) and len(data) == 1:
        return data[0]
    if isinstance(data, dict) and len(data) == 1:
        ((key, value),) = data.items()
        if id_key(str(key)) == id_key(entry_id):
            return value
    return data


def is_single_shape(action: str, data: Any, ids: list[str]) -> bool:
    """Whether a batch answer came in the one-id shape instead (`{"refill": "1"}`)."""
    if not isinstance(data, dict):
        return False
    keys = {id_key(str(k)) for k in data}
    if any(id_key(i) in keys for i in ids):
        return False
    value = (record(data) or {}).get(_SINGLE_SHAPE_KEYS[action])
    return value is not None and not isinstance(value, list)


def _status_error(entry: Any) -> tuple[dict[str, Any] | None, ItemError | None]:
    """The entry as a record, or the ItemError it stands for (bare strings included)."""
    rec = record(entry)  # once: reading an entry's keys was most of parsing a status answer
    if rec is None:
        return None, ItemError(humanise(entry)) if isinstance(entry, str) else unknown(UNREADABLE)
    text = record_error_text(rec)
    if text is not None:
        return None, ItemError(text)
    value = rec.get(STATUS_KEY)
    text = error_text(value)
    if text is None and isinstance(value, str) and looks_like_error(value):
        text = humanise(value)
    return (None, ItemError(text)) if text is not None else (rec, None)


def read_order_status(entry: Any) -> UpstreamOrderStatus | ItemError:
    bare_status = status_name(entry)
    if bare_status is not None and bare_status in OrderStatus.values:
        return UpstreamOrderStatus(bare_status, None, None, None, None)
    rec, error = _status_error(entry)
    if rec is None:
        return error or unknown(UNREADABLE)
    return order_status_of(rec) or unknown(UNREADABLE)


def read_product_status(entry: Any) -> UpstreamProductOrderStatus | ItemError:
    rec, error = _status_error(entry)
    if rec is None:
        return error or unknown(UNREADABLE)
    return product_order_status_of(rec) or unknown(UNREADABLE)


def read_refill_status(entry: Any) -> str | ItemError:
    rec = record(entry)
    if rec is None and isinstance(entry, str):
        rec = {"status": entry}
    rec, error = _status_error(rec if rec is not None else entry)
    if error is not None:
        return error
    status = status_name(field(rec or {}, "status"))
    if status is None:
        return unknown(UNREADABLE)
    # Unknown spellings pass through as sent; the caller decides what they mean.
    return status


def read_refill(entry: Any) -> str | ItemError:
    text = error_text(entry)
    if text is not None:
        return ItemError(text)
    rec = record(entry)
    value = entry if rec is None else field(rec, "refill", "refill_id")
    text = error_text(value)
    if text is not None:
        return ItemError(text)
    if isinstance(value, str) and (looks_like_error(value) or " " in value.strip()):
        return ItemError(humanise(value))
    refill_id = to_id(value)
    return refill_id if refill_id is not None else unknown(NO_ID)


def read_cancel(entry: Any) -> bool | ItemError:
    text = error_text(entry)
    if text is not None:
        return ItemError(text)
    rec = record(entry)
    value = entry if rec is None else field(rec, "cancel", "canceled", "cancelled")
    text = error_text(value)
    if text is not None:
        return ItemError(text)
    if isinstance(value, bool | int | Decimal):
        return to_bool(value)
    if isinstance(value, str):
        word = squash(value)
        if word in _ACCEPTED_WORDS:
            return True
        if word in _REFUSED_WORDS:
            return False
        if word:
            return ItemError(humanise(value))
    return unknown(UNREADABLE)
