"""The catalog's vocabulary: service types, refill escalations, the markup fields."""

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The markup a new provider starts with, in percent: the model, provider_create and the
# add_provider command all default to it.
DEFAULT_MARKUP_PERCENT = Decimal(25)


class ServiceType(models.TextChoices):
    DEFAULT = "Default", pgettext_lazy("service type", "Default")
    PACKAGE = "Package", pgettext_lazy("service type", "Package")
    CUSTOM_COMMENTS = "Custom Comments", pgettext_lazy("service type", "Custom Comments")
    CUSTOM_COMMENTS_PACKAGE = (
        "Custom Comments Package",
        pgettext_lazy("service type", "Custom Comments Package"),
    )
    MENTIONS = "Mentions", pgettext_lazy("service type", "Mentions")
    MENTIONS_WITH_HASHTAGS = (
        "Mentions with Hashtags",
        pgettext_lazy("service type", "Mentions with Hashtags"),
    )
    MENTIONS_CUSTOM_LIST = (
        "Mentions Custom List",
        pgettext_lazy("service type", "Mentions Custom List"),
    )
    MENTIONS_HASHTAG = "Mentions Hashtag", pgettext_lazy("service type", "Mentions Hashtag")
    MENTIONS_USER_FOLLOWERS = (
        "Mentions User Followers",
        pgettext_lazy("service type", "Mentions User Followers"),
    )
    MENTIONS_MEDIA_LIKERS = (
        "Mentions Media Likers",
        pgettext_lazy("service type", "Mentions Media Likers"),
    )
    COMMENT_LIKES = "Comment Likes", pgettext_lazy("service type", "Comment Likes")
    POLL = "Poll", pgettext_lazy("service type", "Poll")
    INVITES_FROM_GROUPS = (
        "Invites from Groups",
        pgettext_lazy("service type", "Invites from Groups"),
    )
    SEO = "SEO", pgettext_lazy("service type", "SEO")
    SUBSCRIPTIONS = "Subscriptions", pgettext_lazy("service type", "Subscriptions")


# A service type as a badge names it in the reader's language; the stored value and the API keep
# the protocol's English (docs/protocol.md). Short: the badge sits beside the name on a phone.
SERVICE_TYPE_NAMES = {
    ServiceType.DEFAULT: pgettext_lazy("service type", "Default"),
    ServiceType.PACKAGE: pgettext_lazy("service type", "Package"),
    ServiceType.CUSTOM_COMMENTS: pgettext_lazy("service type", "Custom Comments"),
    ServiceType.CUSTOM_COMMENTS_PACKAGE: pgettext_lazy("service type", "Custom Comments Package"),
    ServiceType.MENTIONS: pgettext_lazy("service type", "Mentions"),
    ServiceType.MENTIONS_WITH_HASHTAGS: pgettext_lazy("service type", "Mentions with Hashtags"),
    ServiceType.MENTIONS_CUSTOM_LIST: pgettext_lazy("service type", "Mentions Custom List"),
    ServiceType.MENTIONS_HASHTAG: pgettext_lazy("service type", "Mentions Hashtag"),
    ServiceType.MENTIONS_USER_FOLLOWERS: pgettext_lazy("service type", "Mentions User Followers"),
    ServiceType.MENTIONS_MEDIA_LIKERS: pgettext_lazy("service type", "Mentions Media Likers"),
    ServiceType.COMMENT_LIKES: pgettext_lazy("service type", "Comment Likes"),
    ServiceType.POLL: pgettext_lazy("service type", "Poll"),
    ServiceType.INVITES_FROM_GROUPS: pgettext_lazy("service type", "Invites from Groups"),
    ServiceType.SEO: pgettext_lazy("service type", "SEO"),
    ServiceType.SUBSCRIPTIONS: pgettext_lazy("service type", "Subscriptions"),
}


def service_type_name(value: str) -> str:
    """`service_type_name("Poll")` → "Bình chọn" in Vietnamese; an unknown value as it is."""
    return str(SERVICE_TYPE_NAMES.get(value, value))  # type: ignore[call-overload]


MAX_POLL_CONCURRENCY = 64


# Types priced per package (flat), not per 1000.
class RefillEscalation(models.TextChoices):
    """A service's rule for a refill the provider rejects or does not finish by its deadline."""

    ASK_AGAIN = "ask_again", _("Ask the provider again (once)")
    REORDER = "reorder", _("Order the missing quantity at another route (once)")
    REFUND = "refund", _("Refund pro rata")


PACKAGE_TYPES = frozenset({ServiceType.PACKAGE, ServiceType.CUSTOM_COMMENTS_PACKAGE})


def text_in(language: str, *, default: str, vi: str = "", en: str = "") -> str:
    """The operator's text for `language` (vi or en) when they wrote one, else `default` (as
    the provider wrote it). Catalog names arrive in the provider's language; the operator's own
    words per language are kept beside them and never touched by a sync."""
    own = vi if language.split("-")[0].lower() == "vi" else en
    return own or default


def percent_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=9, decimal_places=2, **kwargs)
