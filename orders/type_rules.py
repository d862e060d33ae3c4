"""What each service type asks for (docs/protocol.md, "add parameters by service type"), and the
normalisation of raw order fields into what is charged and what is sent upstream."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.ids import parse_id, parse_whole
from core.money import number_text
from core.text import is_intact, is_storable
from orders.errors import IncorrectLink, InvalidOrderField, QuantityOutOfRange
from providers.models import Service
from providers.models import ServiceType as T

# Empty, "undefined" and "null" optional fields count as absent: some SDKs send runs=undefined.
_ABSENT = {"", "undefined", "null", "none"}
_URL = re.compile(r"^https?://[^\s/?#@]+\.[^\s/?#]+([/?#]\S*)?$", re.IGNORECASE)
_HANDLE = re.compile(r"^@?[\w.\-]{1,100}$")
SUBSCRIPTION_DELAYS = (
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
MAX_LINK_LENGTH = 1000
MAX_LINES = 10_000


@dataclass(frozen=True)
class TypeRule:
    needs_link: bool = True
    quantity_from: str = (
        "input"  # "input", "package" (one), or a line field whose lines are counted
    )
    required: tuple[str, ...] = ()
    line_fields: tuple[str, ...] = ()

    @property
    def is_package(self) -> bool:
        return self.quantity_from == "package"

    @property
    def takes_quantity(self) -> bool:
        return self.quantity_from == "input"


RULES: dict[str, TypeRule] = {
    T.DEFAULT: TypeRule(),
    T.PACKAGE: TypeRule(quantity_from="package"),
    T.CUSTOM_COMMENTS: TypeRule(
        quantity_from="comments", required=("comments",), line_fields=("comments",)
    ),
    T.CUSTOM_COMMENTS_PACKAGE: TypeRule(
        quantity_from="package", required=("comments",), line_fields=("comments",)
    ),
    T.MENTIONS: TypeRule(required=("usernames",), line_fields=("usernames",)),
    T.MENTIONS_WITH_HASHTAGS: TypeRule(
        required=("usernames", "hashtags"), line_fields=("usernames", "hashtags")
    ),
    T.MENTIONS_CUSTOM_LIST: TypeRule(
        quantity_from="usernames", required=("usernames",), line_fields=("usernames",)
    ),
    T.MENTIONS_HASHTAG: TypeRule(required=("hashtag",)),
    T.MENTIONS_USER_FOLLOWERS: TypeRule(required=("username",)),
    T.MENTIONS_MEDIA_LIKERS: TypeRule(required=("media",)),
    T.COMMENT_LIKES: TypeRule(required=("username",)),
    T.POLL: TypeRule(required=("answer_number",)),
    T.INVITES_FROM_GROUPS: TypeRule(required=("groups",), line_fields=("groups",)),
    T.SEO: TypeRule(required=("keywords",), line_fields=("keywords",)),
    T.SUBSCRIPTIONS: TypeRule(
        needs_link=False, quantity_from="subscription", required=("username",)
    ),
}

# Every field an order of some type may carry; the forms and the API read these names.
TYPE_FIELDS = (
    "comments",
    "usernames",
    "hashtags",
    "hashtag",
    "username",
    "media",
    "answer_number",
    "groups",
    "keywords",
    "min",
    "max",
    "posts",
    "old_posts",
    "delay",
    "expiry",
)


@dataclass
class OrderRequest:
    """A validated order: what is charged (`total_quantity`) and what goes upstream."""

    link: str
    quantity: int
    total_quantity: int
    is_package: bool
    runs: int | None = None
    interval: int | None = None
    details: dict[str, str] = field(default_factory=dict)


def clean_value(raw: Mapping[str, object], name: str) -> str | None:
    """The trimmed text of a field, None when absent; text the database cannot store (NUL)
    is refused here, so no caller sends it into a query."""
    value = raw.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if not is_storable(text):
        raise InvalidOrderField(name, _("Remove the control characters from this field."))
    return None if text.lower() in _ABSENT else text


def _integer(raw: Mapping[str, object], name: str, *, minimum: int | None = 0) -> int | None:
    text = clean_value(raw, name)
    if text is None:
        return None
    number = parse_whole(text)
    if number is None:
        raise InvalidOrderField(name, _("Enter a whole number."))
    if minimum is not None and number < minimum:
        raise InvalidOrderField(
            name, format_lazy(_("Must be at least {minimum}."), minimum=minimum)
        )
    return number


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def clean_link(raw: Mapping[str, object]) -> str:
    link = clean_value(raw, "link")
    if link is None:
        raise IncorrectLink(_("Enter the link to promote."))
    if len(link) > MAX_LINK_LENGTH or any(ch.isspace() for ch in link) or not is_intact(link):
        raise IncorrectLink()
    if not (_URL.match(link) or _HANDLE.match(link)):
        raise IncorrectLink()
    return link


def _grouped(limit: int) -> str:
    return number_text(limit, language=get_language() or settings.LANGUAGE_CODE)


def check_limits(
    *, quantity: int, minimum: int, maximum: int, step: int = 1, checked: int | None = None
) -> None:
    """Min applies to `quantity`, max to `checked` (quantity × runs for drip-feed)."""
    checked = quantity if checked is None else checked
    if quantity < minimum:
        raise QuantityOutOfRange(
            f"Quantity less than minimal {minimum}",
            detail=format_lazy(_("The minimum is {limit}."), limit=_grouped(minimum)),
        )
    if checked > maximum:
        raise QuantityOutOfRange(
            f"Quantity more than maximal {maximum}",
            detail=format_lazy(_("The maximum is {limit}."), limit=_grouped(maximum)),
        )
    if step > 1 and quantity % step:
        raise QuantityOutOfRange(
            f"Quantity must be a multiple of {step}",
            detail=format_lazy(_("The quantity must be a multiple of {step}."), step=step),
        )


def _check_service_limits(service: Service, quantity: int, *, checked: int | None = None) -> None:
    check_limits(
        quantity=quantity,
        minimum=service.min,
        maximum=service.max,
        step=service.quantity_step,
        checked=checked,
    )


def _dripfeed(service: Service, raw: Mapping[str, object]) -> tuple[int | None, int | None]:
    runs = _integer(raw, "runs", minimum=0)
    interval = _integer(raw, "interval", minimum=0)
    if not runs:  # runs=0 is what several SDKs send for "no drip-feed"
        return None, None
    if not service.has_dripfeed:
        raise InvalidOrderField("runs", _("This service has no drip-feed."))
    if runs < 2:
        raise InvalidOrderField("runs", _("Drip-feed needs at least 2 runs."))
    if not interval:
        raise InvalidOrderField("interval", _("Give the minutes between runs."))
    return runs, interval


def _subscription(service: Service, raw: Mapping[str, object]) -> OrderRequest:
    username = clean_value(raw, "username")
    if username is None or not _HANDLE.match(username):
        raise InvalidOrderField("username", _("Enter the account's username."))
    low, high = _integer(raw, "min", minimum=1), _integer(raw, "max", minimum=1)
    if low is None or high is None:
        raise InvalidOrderField(
            "min" if low is None else "max", _("Give the minimum and maximum per post.")
        )
    if low > high:
        raise InvalidOrderField("min", _("The minimum must not exceed the maximum."))
    try:
        _check_service_limits(service, low, checked=high)
    except QuantityOutOfRange as exc:
        # A subscription's limits are its per-post min and max: say which one is off.
        raise QuantityOutOfRange(
            exc.message, field="max" if "maximal" in exc.message else "min", detail=exc.detail
        ) from None
    # The charge is max × posts. Without a post count (an open-ended subscription) the panel
    # buys a set number of posts, so it always knows what it sells and what it charges.
    posts = _integer(raw, "posts", minimum=1)
    if posts is None:
        posts = settings.PANEL_SUBSCRIPTION_DEFAULT_POSTS
    details = {"username": username, "min": str(low), "max": str(high), "posts": str(posts)}
    old_posts = _integer(raw, "old_posts", minimum=0)
    if old_posts is not None:
        details["old_posts"] = str(old_posts)
    delay = _integer(raw, "delay", minimum=0)
    if delay is not None:
        if delay not in SUBSCRIPTION_DELAYS:
            raise InvalidOrderField("delay", _("Choose one of the offered delays."))
        details["delay"] = str(delay)
    expiry = clean_value(raw, "expiry")
    if expiry is not None:
        details["expiry"] = _expiry(expiry)
    return OrderRequest(
        link="", quantity=high, total_quantity=high * posts, is_package=False, details=details
    )


def _expiry(text: str) -> str:
    try:
        day = datetime.strptime(text, "%d/%m/%Y").date()  # noqa: DTZ007 - a calendar date, no time
    except ValueError:
        raise InvalidOrderField("expiry", _("Write the date as dd/mm/yyyy.")) from None
    if day <= timezone.localdate():
        raise InvalidOrderField("expiry", _("The expiry must be in the future."))
    return day.strftime("%d/%m/%Y")


def parse_order_fields(service: Service, raw: Mapping[str, object]) -> OrderRequest:
    """Validate raw fields (form or API) for this service's type. Raises an InvalidRequest kind."""
    rule = RULES[service.type]
    if service.type == T.SUBSCRIPTIONS:
        return _subscription(service, raw)
    link = clean_link(raw) if rule.needs_link else ""
    details: dict[str, str] = {}
    for name in rule.required:
        value = clean_value(raw, name)
        if value is None:
            raise InvalidOrderField(name, _("This field is required."))
        if name in rule.line_fields:
            lines = _lines(value)
            if not lines or len(lines) > MAX_LINES:
                raise InvalidOrderField(name, _("Write one entry per line."))
            value = "\n".join(lines)
        details[name] = value
    if service.type == T.POLL and parse_id(details["answer_number"]) is None:
        raise InvalidOrderField("answer_number", _("Enter the number of the answer."))

    if rule.is_package:
        return OrderRequest(
            link=link, quantity=1, total_quantity=1, is_package=True, details=details
        )
    if rule.takes_quantity:
        quantity = _integer(raw, "quantity", minimum=None)  # below-minimum gets the limit message
        if quantity is None:
            raise InvalidOrderField("quantity", _("Enter a quantity."))
    else:
        # The quantity of line-counted types is the number of lines; a sent quantity is ignored.
        quantity = len(details[rule.quantity_from].split("\n"))
    runs, interval = _dripfeed(service, raw) if service.type == T.DEFAULT else (None, None)
    total = quantity * (runs or 1)
    _check_service_limits(service, quantity, checked=total)
    return OrderRequest(
        link=link,
        quantity=quantity,
        total_quantity=total,
        is_package=False,
        runs=runs,
        interval=interval,
        details=details,
    )


def upstream_fields(
    *,
    service_type: str,
    link: str,
    quantity: int,
    runs: int | None,
    interval: int | None,
    details: Mapping[str, str],
) -> dict[str, str]:
    """The `add` fields to send upstream for a stored order (strict in what we send)."""
    rule = RULES[service_type]
    fields = dict(details)
    if rule.needs_link:
        fields["link"] = link
    if rule.takes_quantity:
        fields["quantity"] = str(quantity)
    if runs:
        fields["runs"], fields["interval"] = str(runs), str(interval)
    return fields
