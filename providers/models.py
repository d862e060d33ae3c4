from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field
from core.secrets import decrypt_secret, encrypt_secret
from core.tenancy import current_panel_id

# The markup a new provider starts with, in percent: the model, provider_create and the
# add_provider command all default to it.
DEFAULT_MARKUP_PERCENT = Decimal(25)


class ServiceType(models.TextChoices):
    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    COMMENT_LIKES = "Comment Likes"
    POLL = "Poll"
    INVITES_FROM_GROUPS = "Invites from Groups"
    SEO = "SEO"
    SUBSCRIPTIONS = "Subscriptions"


MAX_POLL_CONCURRENCY = 64


# Types priced per package (flat), not per 1000.
class RefillEscalation(models.TextChoices):
    """A service's rule for a refill the provider rejects or does not finish by its deadline."""

    ASK_AGAIN = "ask_again", "Ask the provider again (once)"
    REORDER = "reorder", "Order the missing quantity at another route (once)"
    REFUND = "refund", "Refund pro rata"


PACKAGE_TYPES = frozenset({ServiceType.PACKAGE, ServiceType.CUSTOM_COMMENTS_PACKAGE})


def percent_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=9, decimal_places=2, **kwargs)


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # The child panel this provider sells to (docs/child-panels.md): a child panel's one provider
    # is the parent panel itself, bought from as the panel's owner. Empty: the parent's own.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="providers",
    )
    api_url = models.URLField(
        max_length=500, help_text="The provider's v2 endpoint, e.g. https://example.com/api/v2"
    )
    api_key_encrypted = models.TextField(editable=False)
    currency = models.CharField(
        max_length=3, default="USD", help_text="The currency the provider charges in."
    )
    exchange_rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        default=Decimal(1),
        help_text="How much of the panel currency one unit of the provider currency is worth.",
    )
    is_enabled = models.BooleanField(
        default=True, help_text="Off: no orders are sent, no syncs run."
    )
    markup_percent = percent_field(
        default=DEFAULT_MARKUP_PERCENT, help_text="Default markup on upstream rates, in percent."
    )
    markup_fixed = money_field(
        default=ZERO, help_text="Added to every rate per 1000 (panel currency), after the percent."
    )
    new_items_on_sale = models.BooleanField(
        default=True,
        help_text="New services and products go on sale at once; off: they wait for an admin.",
    )
    low_balance_threshold = money_field(
        default=Decimal(10), help_text="Flag the provider when its balance falls below this."
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
    )
    balance = money_field(null=True, blank=True, editable=False)
    balance_currency = models.CharField(max_length=3, blank=True, editable=False)
    balance_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Dispatch health: set by the forwarding service, cleared by an admin check or by time.
    dispatch_paused_until = models.DateTimeField(null=True, blank=True, editable=False)
    credentials_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the low-balance alert went out, cleared when the balance recovers: one alert
    # per crossing (providers.alerts).
    balance_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the provider is a copy of this panel and pushes status webhooks to us
    # (providers.services.webhooks): the secret it signs them with, and where they come.
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    webhook_id = models.CharField(max_length=64, blank=True, editable=False)
    webhook_url = models.CharField(max_length=500, blank=True, editable=False)
    webhook_subscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    name = models.CharField(max_length=255)
    # A child panel's categories are its own (its markup rules, its order), beside the
    # parent's of the same name; empty: the parent's.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="categories",
    )
    sort_order = models.IntegerField(default=0)
    markup_percent = percent_field(
        null=True, blank=True, help_text="Overrides the provider markup for this category."
    )
    markup_fixed = money_field(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                "name", "child_panel", nulls_distinct=False, name="category_name_unique_per_panel"
            )
        ]

    def __str__(self) -> str:
        return self.name


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

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT)
    upstream_id = models.CharField(max_length=64)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    name = models.CharField(max_length=500, help_text="As last imported.")
    name_override = models.CharField(
        max_length=500, blank=True, help_text="Shown to customers instead of the upstream name."
    )
    description = models.TextField(blank=True)
    upstream_rate = money_field(help_text="As last imported, in the provider currency.")
    rate = money_field(help_text="The selling price in the panel currency.")
    is_rate_pinned = models.BooleanField(
        default=False, help_text="Keep this price whatever upstream or the markup rules say."
    )
    markup_percent = percent_field(
        null=True, blank=True, help_text="Overrides category and provider markup."
    )
    markup_fixed = money_field(null=True, blank=True)
    min = models.PositiveBigIntegerField()
    max = models.PositiveBigIntegerField()
    is_enabled = models.BooleanField(default=True, help_text="On sale (an admin's choice).")
    is_available = models.BooleanField(
        default=True, editable=False, help_text="Still offered upstream."
    )
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
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
    )
    held_at = models.DateTimeField(null=True, blank=True, editable=False)
    held_from_cost = money_field(null=True, blank=True, editable=False)

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.pk} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_override or self.name


class Service(CatalogItem):
    type = models.CharField(max_length=32, choices=ServiceType.choices, default=ServiceType.DEFAULT)
    has_refill = models.BooleanField(default=False)
    has_cancel = models.BooleanField(default=False)
    has_dripfeed = models.BooleanField(default=False)
    quantity_step = models.PositiveIntegerField(
        default=1, help_text="Quantities must be a multiple of this."
    )
    # db_default as well: services written by code that predates the column (a rolling
    # deploy, raw inserts) take the rule too.
    is_one_order_per_link = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Refuse a second order for the same link while one is still open "
        "(docs/protocol.md); links are compared without scheme, www. and tracking parameters.",
    )
    # The refill rules (docs/lifecycle.md, "Refills"): set by an operator, never by the
    # catalog sync, which imports `has_refill` only. db_default: rows inserted by code that
    # predates the columns take the rule too.
    warranty_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Refill window after the order finished, in days (the 'Bảo hành N ngày' "
        "customers read). Empty: refills have no time limit.",
    )
    refill_max_per_order = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Refills an order may have. Empty: no cap."
    )
    refill_cooldown_hours = models.PositiveSmallIntegerField(
        default=24, db_default=24, help_text="Hours between two refill requests of one order."
    )
    refill_deadline_hours = models.PositiveSmallIntegerField(
        default=72,
        db_default=72,
        help_text="A refill not Completed this many hours after it was asked escalates.",
    )
    refill_escalation = models.CharField(
        max_length=16,
        choices=RefillEscalation.choices,
        default=RefillEscalation.REFUND,
        db_default=RefillEscalation.REFUND,
        help_text="What the panel does when the provider rejects a refill or misses its "
        "deadline. Whatever it is, a refill that still fails is refunded pro rata.",
    )
    average_time_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Mean time to Completed per 1,000 units of the last 10 completed orders "
        "(orders.delivery_times); empty with fewer than 3.",
    )
    # The routing rule's bar (orders.services.routing): in the scorecard's unit, per 1,000
    # units (per order for package services), as its 90th percentile is.
    completion_target = models.DurationField(
        null=True,
        blank=True,
        help_text="Target 90th-percentile completion time per 1,000 (per order for packages), "
        "e.g. 03:00:00. With a target, orders take the cheapest route whose last 30 days meet "
        "it (docs/operators.md, Routes); empty: routes in priority order.",
    )

    class Meta:
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
        AUTO = "Auto"
        SERVICE = "Service"

    type = models.CharField(max_length=16, choices=Kind.choices, default=Kind.AUTO)
    require = models.CharField(
        max_length=500, blank=True, help_text="What the customer must give, e.g. an account."
    )
    stock_status = models.CharField(max_length=64, blank=True)
    is_in_stock = models.BooleanField(default=True)
    inventory = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["category__sort_order", "category__name", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "upstream_id"], name="product_unique_upstream_id"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="product_rate_not_negative"),
        ]


class CatalogChange(models.Model):
    """One detected change of the catalog: the admin's audit trail and the public Updates page."""

    class Kind(models.TextChoices):
        ADDED = "added", "Added"
        REMOVED = "removed", "Removed"
        RESTORED = "restored", "Back"
        CHANGED = "changed", "Changed"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="changes")
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=32, blank=True)
    old_value = models.CharField(max_length=500, blank=True)
    new_value = models.CharField(max_length=500, blank=True)
    is_public = models.BooleanField(default=True, help_text="Shown on the customers' Updates page.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
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
        return f"{self.get_kind_display()} {self.field}".strip()


class ServiceRoute(models.Model):
    """One way to fulfil a service: a provider's catalog entry (`target`) and its priority.

    A service without routes is sent to its own provider, as imported. With routes, an order
    takes the first enabled one whose cost is below the service's selling price, and moves to
    the next only when a provider explicitly rejected the `add` (orders.routing).
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="routes")
    target = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="routed_from",
        help_text="The provider's service, as imported from its catalog.",
    )
    priority = models.PositiveSmallIntegerField(default=10, help_text="Lower goes first.")
    is_enabled = models.BooleanField(default=True)
    cost_rate = money_field(
        default=ZERO, editable=False, help_text="Upstream rate in the panel currency, last sync."
    )
    is_profitable = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    orders = models.PositiveIntegerField(default=0, help_text="Finished orders in the window.")
    started = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    start_p50_seconds = models.PositiveIntegerField(null=True, blank=True)
    start_p90_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Per 1,000 units (per order for package services): the unit the routing target is set in.
    complete_p50_seconds = models.PositiveIntegerField(null=True, blank=True)
    complete_p90_seconds = models.PositiveIntegerField(null=True, blank=True)
    partial_percent = percent_field(null=True, blank=True)
    refills = models.PositiveIntegerField(default=0, help_text="Finished refills in the window.")
    refill_success_percent = percent_field(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class ServiceScore(Scorecard):
    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )

    def __str__(self) -> str:
        return f"Scorecard of service {self.service_id}"


class RouteScore(Scorecard):
    route = models.OneToOneField(
        ServiceRoute, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )

    def __str__(self) -> str:
        return f"Scorecard of route {self.route_id}"


class PriceOverride(models.Model):
    """One customer's own rate for one service (per 1000, or per package): it wins over tiers
    and discounts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="price_overrides"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="price_overrides")
    rate = money_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "service"]
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="price_override_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="price_override_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} pays {self.rate} for {self.service_id}"


class ProviderCall(models.Model):
    """One timed `add` call: the dashboard's error rate and latency per provider come from here.
    Old rows are pruned by the dashboard rollup job."""

    class Outcome(models.TextChoices):
        OK = "ok", "Accepted"
        REJECTED = "rejected", "Rejected"
        BUSY = "busy", "Busy"
        UNAVAILABLE = "unavailable", "Not sent"
        UNKNOWN = "unknown", "Outcome unknown"
        AUTH = "auth", "Key refused"
        ERROR = "error", "Unexpected error"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="calls")
    action = models.CharField(max_length=32)
    result = models.CharField(max_length=16, choices=Outcome.choices)
    duration_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["provider", "created_at"], name="provider_call_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.result} {self.duration_ms} ms"
