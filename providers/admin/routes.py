"""Fallback routes between services, and per-customer price overrides."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin_money import Money
from providers.admin.scorecards import completion_p90_text, scorecard_html
from providers.forms import ServiceRouteForm
from providers.models import (
    PriceOverride,
    RouteScore,
    ServiceRoute,
)
from providers.services import (
    route_add,
    route_update,
)


def _score_of(route: ServiceRoute) -> RouteScore | None:
    try:
        return route.score  # read with the list (list_select_related)
    except RouteScore.DoesNotExist:
        return None


@admin.register(ServiceRoute)
class ServiceRouteAdmin(admin.ModelAdmin):
    """Routes are added through the service's "Suggest routes" page or here (both call
    route_add); only priority and the enabled flag change afterwards."""

    # A rate per 1000: every stored digit (core.admin_money).
    money_currencies = {"cost_rate": Money(exact=True)}

    list_display = (
        "service",
        "target_provider",
        "target_upstream_id",
        "priority",
        "is_enabled",
        "cost_rate",
        "selling_rate",
        "is_profitable",
        "completion_p90",
    )
    list_filter = ("is_enabled", "is_profitable", "target__provider")
    list_select_related = ("service", "target__provider", "score")
    search_fields = ("=service__id", "service__name", "target__upstream_id")
    raw_id_fields = ("service", "target")
    readonly_fields = ("cost_rate", "is_profitable", "scorecard", "created_at", "updated_at")
    form = ServiceRouteForm

    @admin.display(description=_("Provider"))
    def target_provider(self, obj: ServiceRoute) -> str:
        return obj.target.provider.name

    @admin.display(description=_("Provider's service id"))
    def target_upstream_id(self, obj: ServiceRoute) -> str:
        return obj.target.upstream_id

    @admin.display(description=_("Completion p90 per 1,000"))
    def completion_p90(self, obj: ServiceRoute) -> str:
        return completion_p90_text(_score_of(obj))

    @admin.display(description=_("Scorecard"))
    def scorecard(self, obj: ServiceRoute) -> str:
        return scorecard_html(_score_of(obj))

    @admin.display(description=_("Selling rate"))
    def selling_rate(self, obj: ServiceRoute) -> object:
        return obj.service.rate

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        if obj is not None:
            return ("service", "target", *self.readonly_fields)
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ServiceRoute, form: object, change: bool
    ) -> None:
        if change:
            route_update(route=obj, priority=obj.priority, is_enabled=obj.is_enabled)
            return
        created = route_add(  # checked by ServiceRouteForm.clean first
            service=obj.service, target=obj.target, priority=obj.priority, is_enabled=obj.is_enabled
        )
        obj.pk = created.pk


@admin.register(PriceOverride)
class PriceOverrideAdmin(admin.ModelAdmin):
    """A customer's own rate for a service (providers.pricing resolves it first)."""

    money_currencies = {"rate": Money(exact=True)}

    list_display = ("user", "service", "rate", "service_rate", "updated_at")
    list_select_related = ("user", "service")
    search_fields = ("user__username", "=service__id", "service__name")
    raw_id_fields = ("user", "service")

    @admin.display(description=_("Service price"))
    def service_rate(self, obj: PriceOverride) -> object:
        return obj.service.rate
