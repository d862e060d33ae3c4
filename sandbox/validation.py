"""`add` input checks per service type, as a real provider panel makes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sandbox.catalog import Service
from sandbox.curated import (
    CUSTOM_COMMENTS,
    CUSTOM_COMMENTS_PACKAGE,
    DEFAULT,
    PACKAGE_TYPES,
    SUBSCRIPTIONS,
)
from sandbox.errors import (
    INCORRECT_LINK,
    INCORRECT_REQUEST,
    ApiError,
    quantity_too_high,
    quantity_too_low,
)

Params = Mapping[str, str]

_ABSENT = ("", "undefined", "null")
# Types whose quantity is the number of lines of one field; a sent quantity is ignored.
_QUANTITY_FROM_LINES = {CUSTOM_COMMENTS: "comments", "Mentions Custom List": "usernames"}
# Extra required fields per type; "lines" fields hold one entry per line.
_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    CUSTOM_COMMENTS: ("comments",),
    CUSTOM_COMMENTS_PACKAGE: ("comments",),
    "Mentions": ("usernames",),
    "Mentions with Hashtags": ("usernames", "hashtags"),
    "Mentions Custom List": ("usernames",),
    "Mentions Hashtag": ("hashtag",),
    "Mentions User Followers": ("username",),
    "Mentions Media Likers": ("media",),
    "Comment Likes": ("username",),
    "Poll": ("answer_number",),
    "Invites from Groups": ("groups",),
    "SEO": ("keywords",),
}
_SINGLE_TOKEN_FIELDS = frozenset(("hashtag", "username", "media"))
SUBSCRIPTION_DELAYS = frozenset(
    (
        0,
        5,
        10,
        15,
        20,
        30,
        40,
        50,
        60,
        90,
        120,
        150,
        180,
        210,
        240,
        270,
        300,
        360,
        420,
        480,
        540,
        600,
    )
)


@dataclass
class AddRequest:
    link: str
    quantity: int
    charge: Decimal
    fields: dict[str, str] = field(default_factory=dict)


def optional(params: Params, name: str) -> str | None:
    """A field's value, or None when absent: some SDKs send "undefined" or "null"."""
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    return None if value.lower() in _ABSENT else value


def required(params: Params, name: str, message: str = INCORRECT_REQUEST) -> str:
    value = optional(params, name)
    if value is None:
        raise ApiError(message)
    return value


def parse_int(value: str | None, message: str = INCORRECT_REQUEST) -> int:
    text = (value or "").strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit():
        raise ApiError(message)
    return int(text)


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def link_for_count(params: Params) -> str:
    """What `adds_per_link` counts an add under: its link, else its username."""
    return optional(params, "link") or optional(params, "username") or ""


def parse_add(service: Service, params: Params) -> AddRequest:
    if service.type == SUBSCRIPTIONS:
        return _parse_subscription(service, params)
    link = _parse_link(params)
    fields = _parse_type_fields(service.type, params)
    if service.type in PACKAGE_TYPES:
        _check_limits(service, 1, 1)
        return AddRequest(link=link, quantity=1, charge=service.rate, fields=fields)
    if service.type in _QUANTITY_FROM_LINES:
        quantity = len(lines(fields[_QUANTITY_FROM_LINES[service.type]]))
    else:
        quantity = parse_int(optional(params, "quantity"))
    runs = _parse_runs(service, params, fields)
    total = quantity * runs
    _check_limits(service, quantity, total)
    return AddRequest(link=link, quantity=total, charge=service.rate * total / 1000, fields=fields)


def _parse_link(params: Params) -> str:
    link = required(params, "link", INCORRECT_LINK)
    if any(char.isspace() for char in link) or len(link) > 2048:
        raise ApiError(INCORRECT_LINK)
    return link


def _parse_type_fields(kind: str, params: Params) -> dict[str, str]:
    fields = {name: required(params, name) for name in _REQUIRED_FIELDS.get(kind, ())}
    for name, value in fields.items():
        if name in _SINGLE_TOKEN_FIELDS and any(char.isspace() for char in value):
            raise ApiError(INCORRECT_REQUEST)
        if not lines(value):
            raise ApiError(INCORRECT_REQUEST)
    if "answer_number" in fields and parse_int(fields["answer_number"]) < 1:
        raise ApiError(INCORRECT_REQUEST)
    return fields


def _parse_runs(service: Service, params: Params, fields: dict[str, str]) -> int:
    """Drip-feed runs (1 without drip-feed); quantity is per run."""
    runs_value = optional(params, "runs")
    if runs_value is None or service.type != DEFAULT:
        return 1
    runs = parse_int(runs_value)
    if runs < 1:
        raise ApiError(INCORRECT_REQUEST)
    if runs == 1:
        return 1
    interval = parse_int(optional(params, "interval"))
    if not service.dripfeed or interval < 1:
        raise ApiError(INCORRECT_REQUEST)
    fields.update(runs=str(runs), interval=str(interval))
    return runs


def _check_limits(service: Service, quantity: int, total: int) -> None:
    if quantity < service.min:
        raise ApiError(quantity_too_low(service.min))
    if total > service.max:
        raise ApiError(quantity_too_high(service.max))


def _parse_subscription(service: Service, params: Params) -> AddRequest:
    """Charged up front for the most it can deliver: max per post × posts (1 if unlimited)."""
    username = required(params, "username")
    if any(char.isspace() for char in username):
        raise ApiError(INCORRECT_REQUEST)
    low = parse_int(required(params, "min"))
    high = parse_int(required(params, "max"))
    if low < service.min:
        raise ApiError(quantity_too_low(service.min))
    if high > service.max:
        raise ApiError(quantity_too_high(service.max))
    if low > high:
        raise ApiError(INCORRECT_REQUEST)
    fields = {"username": username, "min": str(low), "max": str(high)}
    fields.update(_parse_subscription_options(params))
    posts = int(fields.get("posts", "0")) or 1
    quantity = high * posts
    return AddRequest(
        link="", quantity=quantity, charge=service.rate * quantity / 1000, fields=fields
    )


def _parse_subscription_options(params: Params) -> dict[str, str]:
    options: dict[str, str] = {}
    for name in ("posts", "old_posts"):
        value = optional(params, name)
        if value is not None:
            if parse_int(value) < 0:
                raise ApiError(INCORRECT_REQUEST)
            options[name] = str(parse_int(value))
    delay = optional(params, "delay")
    if delay is not None:
        if parse_int(delay) not in SUBSCRIPTION_DELAYS:
            raise ApiError(INCORRECT_REQUEST)
        options["delay"] = str(parse_int(delay))
    expiry = optional(params, "expiry")
    if expiry is not None:
        try:
            datetime.strptime(expiry, "%d/%m/%Y")  # noqa: DTZ007 - a date, no time zone in play
        except ValueError:
            raise ApiError(INCORRECT_REQUEST) from None
        options["expiry"] = expiry
    return options
