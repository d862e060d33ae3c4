"""Where an order goes and how well each way delivers: routes, scorecards, per-customer prices
and favorites."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field
from providers.models.catalog import (
    Service,
)
from providers.models.provider import Provider
from providers.models.types import percent_field


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
