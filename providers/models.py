from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field
from core.secrets import decrypt_secret, encrypt_secret
from core.tenancy import current_panel_id
from providers.platforms import Platform

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


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    # The child panel this provider sells to (docs/child-panels.md): a child panel's one provider
    # is the parent panel itself, bought from as the panel's owner. Empty: the parent's own.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="providers",
        verbose_name=_("child panel"),
    )
    api_url = models.URLField(
        max_length=500,
        help_text=_("The provider's v2 endpoint, e.g. https://example.com/api/v2"),
        verbose_name=_("api URL"),
    )
    api_key_encrypted = models.TextField(editable=False, verbose_name=_("api key encrypted"))
    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text=_("The currency the provider charges in."),
        verbose_name=_("currency"),
    )
    exchange_rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        default=Decimal(1),
        help_text=_("How much of the panel currency one unit of the provider currency is worth."),
        verbose_name=_("exchange rate"),
    )
    is_enabled = models.BooleanField(
        default=True,
        help_text=_("Off: no orders are sent, no syncs run."),
        verbose_name=_("is enabled"),
    )
    markup_percent = percent_field(
        default=DEFAULT_MARKUP_PERCENT,
        help_text=_("Default markup on upstream rates, in percent."),
        verbose_name=_("markup percent"),
    )
    markup_fixed = money_field(
        default=ZERO,
        help_text=_("Added to every rate per 1000 (panel currency), after the percent."),
        verbose_name=_("markup fixed"),
    )
    new_items_on_sale = models.BooleanField(
        default=True,
        help_text=_("New services and products go on sale at once; off: they wait for an admin."),
        verbose_name=_("new items on sale"),
    )
    low_balance_threshold = money_field(
        default=Decimal(10),
        help_text=_("Flag the provider when its balance falls below this."),
        verbose_name=_("low balance threshold"),
    )
    # Per provider because real providers throttle: some take 32 status calls at once, others
    # ban an address for more than a few.
    poll_concurrency = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POLL_CONCURRENCY)],
        help_text=_(
            "Status calls in flight at once while polling this provider, all workers together. "
            "Empty: the panel's default (PANEL_POLL_CONCURRENCY)."
        ),
        verbose_name=_("poll concurrency"),
    )
    balance = money_field(null=True, blank=True, editable=False, verbose_name=_("balance"))
    balance_currency = models.CharField(
        max_length=3, blank=True, editable=False, verbose_name=_("balance currency")
    )
    balance_checked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("balance checked at")
    )
    # Dispatch health: set by the forwarding service, cleared by an admin check or by time.
    dispatch_paused_until = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("dispatch paused until")
    )
    credentials_failed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("credentials failed at")
    )
    last_error = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("last error")
    )
    last_error_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last error at")
    )
    last_synced_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last synced at")
    )
    # Set when the low-balance alert went out, cleared when the balance recovers: one alert
    # per crossing (providers.alerts).
    balance_alerted_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("balance alerted at")
    )
    # Set when the provider is a copy of this panel and pushes status webhooks to us
    # (providers.services.webhooks): the secret it signs them with, and where they come.
    webhook_secret_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("webhook secret encrypted")
    )
    webhook_id = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("webhook ID")
    )
    webhook_url = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("webhook URL")
    )
    webhook_subscribed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("webhook subscribed at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0), name="provider_exchange_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__gt=-100), name="provider_markup_above_minus_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return decrypt_secret(self.api_key_encrypted) if self.api_key_encrypted else ""

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_key_encrypted = encrypt_secret(value)

    @property
    def is_low_balance(self) -> bool:
        return self.balance is not None and self.balance < self.low_balance_threshold

    def can_dispatch_at(self, now: datetime) -> bool:
        return (
            self.is_enabled
            and self.credentials_failed_at is None
            and (self.dispatch_paused_until is None or self.dispatch_paused_until <= now)
        )


class Category(models.Model):
    # The provider's name is the key the sync finds the category by: renaming it would make the
    # next sync create the category again and move its services back (the operator's names are
    # name_vi / name_en, which no sync touches). Unique per panel (the constraint below).
    name = models.CharField(
        max_length=255,
        help_text=_("As the provider names it; the sync matches by it."),
        verbose_name=_("name"),
    )
    # A child panel's categories are its own (its markup rules, its order), beside the
    # parent's of the same name; empty: the parent's.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="categories",
        verbose_name=_("child panel"),
    )
    name_vi = models.CharField(
        _("name in Vietnamese"),
        max_length=255,
        blank=True,
        help_text=_("Shown to Vietnamese readers; empty: the provider's name."),
    )
    name_en = models.CharField(
        _("name in English"),
        max_length=255,
        blank=True,
        help_text=_("Shown to English readers; empty: the provider's name."),
    )
    platform = models.CharField(
        max_length=16,
        choices=Platform.choices,
        default=Platform.OTHER,
        db_default=Platform.OTHER,
        editable=False,
        verbose_name=_("detected platform"),
        help_text=_("Detected from the provider's name at each sync."),
    )
    platform_override = models.CharField(
        _("platform"),
        max_length=16,
        choices=Platform.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("Your choice; empty: the one detected from the name."),
    )
    sort_order = models.IntegerField(default=0, verbose_name=_("sort order"))
    markup_percent = percent_field(
        null=True,
        blank=True,
        help_text=_("Overrides the provider markup for this category."),
        verbose_name=_("markup percent"),
    )
    markup_fixed = money_field(null=True, blank=True, verbose_name=_("markup fixed"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("category")
        ordering = ["sort_order", "name"]
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                "name", "child_panel", nulls_distinct=False, name="category_name_unique_per_panel"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return text_in(language, default=self.name, vi=self.name_vi, en=self.name_en)

    @property
    def shown_platform(self) -> str:
        return self.platform_override or self.platform


class HoldReason(models.TextChoices):
    """Why a sync held an item for an operator (providers.services.catalog.guard). Stored as the
    code; the catalog and the admin render the label in the reader's language."""

    NONE = "", _("Not held")
    BELOW_MARGIN = "below_margin", _("Its cost leaves less than the minimum margin")
    PRICE_RISE = "price_rise", _("Its upstream price rose sharply")
    RESTORED = "restored", _("It came back upstream after being removed")


class CatalogItemQuerySet(models.QuerySet):
    def on_sale(self) -> Self:
        """What customers may buy: put on sale by an admin, still offered upstream, and from an
        enabled provider, and not held by the margin guard. The one definition of "on sale":
        pages, the API, forms and placing all ask it (placing through core.db.reads, which
        spells the same conditions in SQL). Of the panel being served only (core.tenancy)."""
        return self.filter(
            is_enabled=True,
            is_available=True,
            hold_reason=HoldReason.NONE,
            provider__is_enabled=True,
            provider__child_panel_id=current_panel_id(),
        )

    def held(self) -> Self:
        """Held by the margin guard, waiting for an operator: approve or disable."""
        return self.exclude(hold_reason=HoldReason.NONE)


class CatalogItem(models.Model):
    """What services and products share: upstream identity, selling price and sale flags."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, verbose_name=_("provider"))
    upstream_id = models.CharField(max_length=64, verbose_name=_("upstream ID"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name=_("category"))
    name = models.CharField(
        max_length=500, help_text=_("As last imported."), verbose_name=_("name")
    )
    name_override = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Shown to customers instead of the upstream name."),
        verbose_name=_("name override"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    upstream_rate = money_field(
        help_text=_("As last imported, in the provider currency."), verbose_name=_("upstream rate")
    )
    rate = money_field(
        help_text=_("The selling price in the panel currency."), verbose_name=_("rate")
    )
    is_rate_pinned = models.BooleanField(
        default=False,
        help_text=_("Keep this price whatever upstream or the markup rules say."),
        verbose_name=_("is rate pinned"),
    )
    markup_percent = percent_field(
        null=True,
        blank=True,
        help_text=_("Overrides category and provider markup."),
        verbose_name=_("markup percent"),
    )
    markup_fixed = money_field(null=True, blank=True, verbose_name=_("markup fixed"))
    min = models.PositiveBigIntegerField(verbose_name=_("min"))
    max = models.PositiveBigIntegerField(verbose_name=_("max"))
    is_enabled = models.BooleanField(
        default=True, help_text=_("On sale (an admin's choice)."), verbose_name=_("is enabled")
    )
    is_available = models.BooleanField(
        default=True,
        editable=False,
        help_text=_("Still offered upstream."),
        verbose_name=_("is available"),
    )
    sort_order = models.IntegerField(default=0, verbose_name=_("sort order"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    removed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("removed at")
    )
    # The margin guard's hold: the reason as data, when, and the cost (panel currency, per
    # 1000 or per package) before the change that held it; the cost now is upstream_rate at the
    # provider's exchange rate.
    hold_reason = models.CharField(
        max_length=16,
        choices=HoldReason.choices,
        blank=True,
        default=HoldReason.NONE,
        db_default=HoldReason.NONE,  # raw inserts (bench seeds) stay on sale
        editable=False,
        verbose_name=_("hold reason"),
    )
    held_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("held at"))
    held_from_cost = money_field(
        null=True, blank=True, editable=False, verbose_name=_("held from cost")
    )

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.pk} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_override or self.name


class Service(CatalogItem):
    type = models.CharField(
        max_length=32,
        choices=ServiceType.choices,
        default=ServiceType.DEFAULT,
        verbose_name=_("type"),
    )
    # The operator's descriptions per language, beside the provider's (`description`, replaced
    # at each sync): customers read theirs when written.
    description_vi = models.TextField(
        _("description in Vietnamese"),
        blank=True,
        help_text=_("Empty: the provider's description."),
    )
    description_en = models.TextField(
        _("description in English"), blank=True, help_text=_("Empty: the provider's description.")
    )
    has_refill = models.BooleanField(default=False, verbose_name=_("has refill"))
    has_cancel = models.BooleanField(default=False, verbose_name=_("has cancel"))
    has_dripfeed = models.BooleanField(default=False, verbose_name=_("has dripfeed"))
    quantity_step = models.PositiveIntegerField(
        default=1,
        help_text=_("Quantities must be a multiple of this."),
        verbose_name=_("quantity step"),
    )
    # db_default as well: services written by code that predates the column (a rolling
    # deploy, raw inserts) take the rule too.
    is_one_order_per_link = models.BooleanField(
        default=True,
        db_default=True,
        help_text=_(
            "Refuse a second order for the same link while one is still open "
            "(docs/protocol.md); links are compared without scheme, www. and tracking parameters."
        ),
        verbose_name=_("is one order per link"),
    )
    # The refill rules (docs/lifecycle.md, "Refills"): set by an operator, never by the
    # catalog sync, which imports `has_refill` only. db_default: rows inserted by code that
    # predates the columns take the rule too.
    warranty_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Refill window after the order finished, in days (the 'Bảo hành N ngày' "
            "customers read). Empty: refills have no time limit."
        ),
        verbose_name=_("warranty days"),
    )
    refill_max_per_order = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Refills an order may have. Empty: no cap."),
        verbose_name=_("refill max per order"),
    )
    refill_cooldown_hours = models.PositiveSmallIntegerField(
        default=24,
        db_default=24,
        help_text=_("Hours between two refill requests of one order."),
        verbose_name=_("refill cooldown hours"),
    )
    refill_deadline_hours = models.PositiveSmallIntegerField(
        default=72,
        db_default=72,
        help_text=_("A refill not Completed this many hours after it was asked escalates."),
        verbose_name=_("refill deadline hours"),
    )
    refill_escalation = models.CharField(
        max_length=16,
        choices=RefillEscalation.choices,
        default=RefillEscalation.REFUND,
        db_default=RefillEscalation.REFUND,
        help_text=_(
            "What the panel does when the provider rejects a refill or misses its "
            "deadline. Whatever it is, a refill that still fails is refunded pro rata."
        ),
        verbose_name=_("refill escalation"),
    )
    average_time_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Mean time to Completed per 1,000 units of the last 10 completed orders "
            "(orders.delivery_times); empty with fewer than 3."
        ),
        verbose_name=_("average time seconds"),
    )
    # The routing rule's bar (orders.services.routing): in the scorecard's unit, per 1,000
    # units (per order for package services), as its 90th percentile is.
    completion_target = models.DurationField(
        null=True,
        blank=True,
        help_text=_(
            "Target 90th-percentile completion time per 1,000 (per order for packages), "
            "e.g. 03:00:00. With a target, orders take the cheapest route whose last 30 days meet "
            "it (docs/operators.md, Routes); empty: routes in priority order."
        ),
        verbose_name=_("completion target"),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category__sort_order", "category__name", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "upstream_id"], name="service_unique_upstream_id"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="service_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_step__gte=1), name="service_quantity_step_positive"
            ),
            models.CheckConstraint(
                condition=Q(refill_deadline_hours__gte=1), name="service_refill_deadline_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["is_enabled", "is_available", "category"], name="service_on_sale")
        ]


class Product(CatalogItem):
    class Kind(models.TextChoices):
        AUTO = "Auto", _("Automatic")
        SERVICE = "Service", _("Manual")

    type = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.AUTO, verbose_name=_("type")
    )
    require = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("What the customer must give, e.g. an account."),
        verbose_name=_("require"),
    )
    stock_status = models.CharField(max_length=64, blank=True, verbose_name=_("stock status"))
    is_in_stock = models.BooleanField(default=True, verbose_name=_("is in stock"))
    inventory = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("inventory"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category__sort_order", "category__name", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "upstream_id"], name="product_unique_upstream_id"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="product_rate_not_negative"),
        ]


# What the Updates page calls each public field and the yes/no values the catalog logs
# (providers.services.catalog.items: SERVICES/PRODUCTS public_fields, _text).
CHANGE_FIELD_NAMES = {
    "rate": _("Rate"),
    "min": _("Min"),
    "max": _("Max"),
    "refill": _("Refill"),
    "cancel": _("Cancel"),
    "in stock": _("In stock"),
}
CHANGE_VALUE_NAMES = {"yes": _("yes"), "no": _("no")}


class CatalogChange(models.Model):
    """One detected change of the catalog: the admin's audit trail and the public Updates page."""

    class Kind(models.TextChoices):
        ADDED = "added", _("Added")
        REMOVED = "removed", _("Removed")
        RESTORED = "restored", _("Back")
        CHANGED = "changed", _("Changed")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="changes", verbose_name=_("provider")
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("service"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("product"),
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    field = models.CharField(max_length=32, blank=True, verbose_name=_("field"))
    old_value = models.CharField(max_length=500, blank=True, verbose_name=_("old value"))
    new_value = models.CharField(max_length=500, blank=True, verbose_name=_("new value"))
    is_public = models.BooleanField(
        default=True,
        help_text=_("Shown on the customers' Updates page."),
        verbose_name=_("is public"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("catalog change")
        verbose_name_plural = _("catalog changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_public", "-created_at"], name="catalog_change_public")]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False, product__isnull=True)
                | Q(service__isnull=True, product__isnull=False),
                name="catalog_change_one_item",
            )
        ]

    def __str__(self) -> str:
        field = CHANGE_FIELD_NAMES.get(self.field, self.field)
        return f"{self.get_kind_display()} {field}".strip()


class ServiceRoute(models.Model):
    """One way to fulfil a service: a provider's catalog entry (`target`) and its priority.

    A service without routes is sent to its own provider, as imported. With routes, an order
    takes the first enabled one whose cost is below the service's selling price, and moves to
    the next only when a provider explicitly rejected the `add` (orders.routing).
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="routes", verbose_name=_("service")
    )
    target = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="routed_from",
        help_text=_("The provider's service, as imported from its catalog."),
        verbose_name=_("target"),
    )
    priority = models.PositiveSmallIntegerField(
        default=10, help_text=_("Lower goes first."), verbose_name=_("priority")
    )
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))
    cost_rate = money_field(
        default=ZERO,
        editable=False,
        help_text=_("Upstream rate in the panel currency, last sync."),
        verbose_name=_("cost rate"),
    )
    is_profitable = models.BooleanField(
        default=True, editable=False, verbose_name=_("is profitable")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("service route")
        verbose_name_plural = _("service routes")
        ordering = ["service", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "target"], name="route_unique_target"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} → {self.target.provider} #{self.target.upstream_id}"

    @property
    def provider(self) -> Provider:
        return self.target.provider

    @property
    def upstream_id(self) -> str:
        return self.target.upstream_id


class Scorecard(models.Model):
    """How a service (or one of its routes) did over the scorecard's window: times from placing
    to start and to Completed, the partial rate and the refill success rate, from real orders
    (orders.scorecard). A figure is empty below the minimum sample. Rewritten as a whole by each
    refresh; pages and routing only read it."""

    orders = models.PositiveIntegerField(
        default=0, help_text=_("Finished orders in the window."), verbose_name=_("orders")
    )
    started = models.PositiveIntegerField(default=0, verbose_name=_("started"))
    completed = models.PositiveIntegerField(default=0, verbose_name=_("completed"))
    partial = models.PositiveIntegerField(default=0, verbose_name=_("partial"))
    start_p50_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("start p50 seconds")
    )
    start_p90_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("start p90 seconds")
    )
    # Per 1,000 units (per order for package services): the unit the routing target is set in.
    complete_p50_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("complete p50 seconds")
    )
    complete_p90_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("complete p90 seconds")
    )
    partial_percent = percent_field(null=True, blank=True, verbose_name=_("partial percent"))
    refills = models.PositiveIntegerField(
        default=0, help_text=_("Finished refills in the window."), verbose_name=_("refills")
    )
    refill_success_percent = percent_field(
        null=True, blank=True, verbose_name=_("refill success percent")
    )
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        abstract = True


class ServiceScore(Scorecard):
    service = models.OneToOneField(
        Service,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("service"),
    )

    class Meta:
        verbose_name = _("service score")
        verbose_name_plural = _("service scores")

    def __str__(self) -> str:
        return gettext("Scorecard of service %(id)s") % {"id": self.service_id}


class RouteScore(Scorecard):
    route = models.OneToOneField(
        ServiceRoute,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("route"),
    )

    class Meta:
        verbose_name = _("route score")
        verbose_name_plural = _("route scores")

    def __str__(self) -> str:
        return gettext("Scorecard of route %(id)s") % {"id": self.route_id}


class PriceOverride(models.Model):
    """One customer's own rate for one service (per 1000, or per package): it wins over tiers
    and discounts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="price_overrides",
        verbose_name=_("user"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="price_overrides", verbose_name=_("service")
    )
    rate = money_field(verbose_name=_("rate"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("price override")
        verbose_name_plural = _("price overrides")
        ordering = ["user", "service"]
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="price_override_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="price_override_rate"),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s pays %(rate)s for %(service)s") % {
            "user": self.user_id,
            "rate": self.rate,
            "service": self.service_id,
        }


class FavoriteService(models.Model):
    """A service a customer starred: the order form and the services page list them first."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favorite_services",
        verbose_name=_("user"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("service")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("favorite service")
        verbose_name_plural = _("favorite services")
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="favorite_service_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.service_id}"


class ProviderCall(models.Model):
    """One timed `add` call: the dashboard's error rate and latency per provider come from here.
    Old rows are pruned by the dashboard rollup job."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        BUSY = "busy", _("Busy")
        UNAVAILABLE = "unavailable", _("Not sent")
        UNKNOWN = "unknown", _("Outcome unknown")
        AUTH = "auth", _("Key refused")
        ERROR = "error", _("Unexpected error")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="calls", verbose_name=_("provider")
    )
    action = models.CharField(max_length=32, verbose_name=_("action"))
    result = models.CharField(max_length=16, choices=Outcome.choices, verbose_name=_("result"))
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration ms"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        indexes = [models.Index(fields=["provider", "created_at"], name="provider_call_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.result} {self.duration_ms} ms"
