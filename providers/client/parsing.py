"""Liberal readers for what providers answer: "strict in what we send, liberal in what we accept".

Every function here is pure. Scalars that cannot be read come back as None (or the given
default); deciding whether that is fatal is the caller's job.
"""

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from core.text import strip_unstorable
from providers.client.messages import humanise
from providers.statuses import PROTOCOL_SPELLINGS

_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_SERVICE_TYPES = (
    "Default",
    "Package",
    "Custom Comments",
    "Custom Comments Package",
    "Mentions",
    "Mentions with Hashtags",
    "Mentions Custom List",
    "Mentions Hashtag",
    "Mentions User Followers",
    "Mentions Media Likers",
    "Comment Likes",
    "Poll",
    "Invites from Groups",
    "SEO",
    "Subscriptions",
)
_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "t"})
_FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "f", ""})
_SEPARATORS = re.compile(r"[\s_\-]+")
_MAX_ID_CHARS = 64
_MAX_MAGNITUDE = 15
_INT_LIMIT = 10 ** (_MAX_MAGNITUDE + 1)  # the integers whose Decimal has adjusted() <= 15
# Counts may come as "10,000". Amounts never get this reading: "1,000" may be a decimal comma,
# and a rate off by a factor of 1000 is worse than a skipped service.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
KEYED_ID = "upstream_key_id"  # where unwrap_list puts the key of an object keyed by id


class BadJson(ValueError):
    """The body is not a JSON document."""


def _reject_constant(name: str) -> None:
    # json.loads would turn NaN/Infinity into floats; an amount that is not a number is absent.
    return None


def decode_json(body: bytes) -> Any:
    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise BadJson("empty body")
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        # "\u0000" or a lone surrogate in a name would fail the whole catalog upsert (the
        # database stores neither): they are dropped, only when the text can hold them.
        return _storable(value) if _UNSTORABLE_ESCAPE.search(text) else value
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadJson(str(exc)) from None


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return strip_unstorable(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


@lru_cache(maxsize=4096)
def squash(key: str) -> str:
    """A key or word with case and separators ignored: "Start Count" == "start_count".

    Cached: a poll squashes the same few keys millions of times (each entry's keys, and the
    names looked up in it), and a regex substitution each time was most of parsing's cost."""
    return _SEPARATORS.sub("", key).lower()


def record(value: Any) -> dict[str, Any] | None:
    """A JSON object with its keys squashed, or None if the value is not an object."""
    if not isinstance(value, dict):
        return None
    return {squash(str(k)): v for k, v in value.items()}


def field(rec: Mapping[str, Any], *names: str) -> Any:
    """The first present, non-null value among the (squashed) names."""
    for name in names:
        value = rec.get(squash(name))
        if value is not None:
            return value
    return None


def to_decimal(value: Any, *, allow_thousands: bool = False) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):  # unreachable through decode_json, kept for direct callers
        value = repr(value)
    text = str(value).strip()
    if allow_thousands and _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    # Nothing a provider sells costs 10^16 of anything; such a value is garbage (and int() of
    # "1e999999999" would eat the worker's memory).
    return amount if amount.is_finite() and amount.adjusted() <= _MAX_MAGNITUDE else None


def to_int(value: Any) -> int | None:
    """An integer from 12, "12", "+12", "-2", "12.0"; None for "Unknown", "", 1.5 and the like."""
    # The common shapes (a plain int, a string of ASCII digits) skip the trip through Decimal:
    # a poll reads two counts from each of a hundred thousand answers.
    if type(value) is int or (type(value) is str and value.isascii() and value.isdigit()):
        number = int(value)
        return number if -_INT_LIMIT < number < _INT_LIMIT else None
    amount = to_decimal(value, allow_thousands=True)
    if amount is None or amount != amount.to_integral_value():
        return None
    return int(amount)


def to_bool(value: Any, *, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return default


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(to_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def to_id(value: Any) -> str | None:
    """An upstream id as str: 99999, "99999", 99999.0 → "99999". Words, blanks, 0 → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        number = to_int(value)
        return str(number) if number is not None and number > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > _MAX_ID_CHARS or any(c.isspace() for c in text):
        return None
    if _is_number(text):
        return text if int(text) > 0 else None
    return text if any(c.isdigit() for c in text) else None


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def id_key(value: str) -> str:
    """How an id is matched against an answer's ids: " 0123" and 123 are the same order."""
    text = value.strip()
    return str(int(text)) if _is_number(text) else text


def status_name(value: Any) -> str | None:
    """The protocol spelling of a status ("CANCELLED" → "Canceled"), the raw text if unknown."""
    if not isinstance(value, str):
        return None
    return _status_name(value)


@lru_cache(maxsize=1024)
def _status_name(value: str) -> str | None:
    # Cached: a poll reads the same few statuses from every entry of every answer.
    text = value.strip()
    return PROTOCOL_SPELLINGS.get(squash(text), text) if text else None


def service_type(value: Any) -> str:
    text = to_text(value)
    if not text:
        return "Default"
    for known in _SERVICE_TYPES:
        if squash(known) == squash(text):
            return known
    return text


def error_text(value: Any) -> str | None:
    """The error message of an answer or batch entry, or None if it does not carry one.

    Accepts `{"error": "…"}`, `{"error": {"message": "…"}}`, `{"error": true, "message": "…"}`
    and `{"status": "error", "message": "…"}`.
    """
    rec = record(value)
    return None if rec is None else record_error_text(rec)


def record_error_text(rec: Mapping[str, Any]) -> str | None:
    """`error_text` of a value already read with `record`."""
    error = rec.get("error")
    if error is None or error is False or error in ("", "0", 0):  # some panels send "error": 0
        is_failure = squash(to_text(rec.get("status"))) in ("error", "fail", "failed")
        if not (is_failure and field(rec, "message", "msg")):
            return None
        error = True
    if error is True or isinstance(error, int | Decimal):
        error = field(rec, "message", "msg", "description") or "Unknown error"
    elif isinstance(error, dict):
        error = error_text(error) or field(record(error) or {}, "message", "msg")
    return humanise(to_text(error))


def unwrap_list(data: Any, wrappers: Iterable[str]) -> list[Any] | None:
    """A list answer, also when wrapped (`{"data": [...]}`) or keyed by id (`{"1": {...}}`)."""
    if isinstance(data, list):
        return data
    rec = record(data)
    if rec is None:
        return None
    for name in wrappers:
        inner = rec.get(squash(name))
        if isinstance(inner, list | dict):
            return unwrap_list(inner, wrappers)
    if data and all(isinstance(v, dict) for v in data.values()):
        return [{KEYED_ID: k, **v} for k, v in data.items()]
    return None


def index_batch(data: Any, id_fields: tuple[str, ...]) -> dict[str, Any] | None:
    """A batch answer as {id_key: entry}: from a list of objects naming their id in one of
    `id_fields`, or from an object keyed by id. None if the shape is neither."""
    if isinstance(data, list):
        entries: dict[str, Any] = {}
        for item in data:
            rec = record(item)
            entry_id = to_id(field(rec, *id_fields)) if rec is not None else None
            if entry_id is not None:
                entries.setdefault(id_key(entry_id), item)
        return entries
    if isinstance(data, dict):
        inner = field(record(data) or {}, "data", "result", "results")
        # Unwrap {"data": …} unless some key is an id: then the object itself is keyed by id.
        if isinstance(inner, list | dict) and not any(to_id(str(k)) for k in data):
            return index_batch(inner, id_fields)
        return {id_key(str(k)): v for k, v in data.items()}
    return None
