"""What a provider sells, as this panel sells it: services and products (their categories are
in providers.models.categories, the changes a sync saw in providers.models.changes)."""

from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from core.tenancy import current_panel_id
from providers.models.categories import Category
from providers.models.provider import Provider
from providers.models.types import RefillEscalation, ServiceType, percent_field


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
