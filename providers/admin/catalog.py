"""The imported catalog: services and products (their categories are in
providers.admin.categories, their change log in providers.admin.changes)."""

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin_money import Money
from core.errors import PanelError
from core.money import money_str
from core.permissions import requires_permission
from providers.admin.held import HoldFilter, HoldsAdmin
from providers.admin.scorecards import scorecard_html
from providers.models import (
    Product,
    Service,
    ServiceScore,
)
from providers.selectors import route_suggestions
from providers.services import (
    catalog_reprice,
    catalog_set_on_sale,
    route_add,
)


class MarginFilter(admin.SimpleListFilter):
    title = gettext_lazy("margin")
    parameter_name = "margin"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("losing", _("Cost not below price"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "losing":
            return queryset.filter(rate__lte=F("upstream_rate") * F("provider__exchange_rate"))
        return queryset


class CatalogItemAdmin(HoldsAdmin):
    # Prices per 1000 or per unit: every stored digit (core.admin_money).
    money_currencies: ClassVar[dict[str, Money]] = {
        "upstream_rate": Money("provider.currency", exact=True),
        "rate": Money(exact=True),
        "markup_fixed": Money(exact=True),
        "held_from_cost": Money(exact=True),
    }
    list_filter: ClassVar[tuple[Any, ...]] = (
        HoldFilter,
        "provider",
        "is_enabled",
        "is_available",
        "is_rate_pinned",
        "category",
    )
    # The columns both kinds list first; each kind adds its own after them.
    list_columns: ClassVar[tuple[str, ...]] = (
        "id",
        "shown_name",
        "provider",
        "upstream_id",
        "category",
        "type",
        "upstream_rate",
        "rate",
        "is_rate_pinned",
        "min",
        "max",
        "hold",
    )
    search_fields = ("name", "name_override", "upstream_id", "=id")
    list_select_related = ("provider", "category")
    list_editable = ("is_enabled",)
    list_per_page = 100
    actions = [
        "put_on_sale",
        "take_off_sale",
        "approve_held_reprice",
        "approve_held_pinned",
        "disable_held",
    ]
    _pricing = {"markup_percent", "markup_fixed", "is_rate_pinned", "rate", "category"}
    upstream_fields: tuple[str, ...] = ()  # what the kind imports besides the shared fields
    selling_extra: tuple[str, ...] = ()  # what an admin sets besides the shared fields
    description_fields: tuple[str, ...] = ()  # the operator's descriptions per language

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # orders point at catalog items: they are taken off sale, never deleted

    @admin.display(description=gettext_lazy("Name"), ordering="name")
    def shown_name(self, obj: Service | Product) -> str:
        return obj.display_name

    def _imported(self) -> tuple[str, ...]:
        shared = ("provider", "upstream_id", "name", "type", "upstream_rate", "min", "max")
        return (*shared, *self.upstream_fields, "is_available", "removed_at", "hold_resolve")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return (*self._imported(), "created_at", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> tuple:
        selling = (
            "name_override",
            "category",
            "description",
            *self.description_fields,
            "rate",
            "is_rate_pinned",
            "markup_percent",
            "markup_fixed",
            *self.selling_extra,
            "is_enabled",
            "sort_order",
        )
        return (
            (gettext_lazy("Upstream (as last imported)"), {"fields": self._imported()}),
            (gettext_lazy("Selling"), {"fields": selling}),
        )

    def save_model(
        self, request: HttpRequest, obj: Service | Product, form: object, change: bool
    ) -> None:
        if "rate" in form.changed_data and not obj.is_rate_pinned:  # type: ignore[attr-defined]
            obj.is_rate_pinned = True  # a price typed by hand is meant to stay
            self.message_user(
                request,
                _("The price of %(item)s is now pinned; unpin it to follow the markup again.")
                % {"item": obj},
            )
        super().save_model(request, obj, form, change)
        if change and self._pricing & set(form.changed_data) and not obj.is_rate_pinned:  # type: ignore[attr-defined]
            if isinstance(obj, Service):
                catalog_reprice(service_ids=[obj.pk])
            else:
                catalog_reprice(product_ids=[obj.pk])

    @admin.action(description=gettext_lazy("Put on sale"), permissions=["change"])
    def put_on_sale(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = catalog_set_on_sale(items=queryset, on_sale=True)
        self.message_user(request, _("%(count)d put on sale.") % {"count": changed})

    @admin.action(description=gettext_lazy("Take off sale"), permissions=["change"])
    def take_off_sale(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = catalog_set_on_sale(items=queryset, on_sale=False)
        self.message_user(request, _("%(count)d taken off sale.") % {"count": changed})


@admin.register(Service)
class ServiceAdmin(CatalogItemAdmin):
    upstream_fields = ("has_refill", "has_cancel", "has_dripfeed")
    description_fields = ("description_vi", "description_en")
    selling_extra = ("quantity_step", "is_one_order_per_link", "completion_target")
    list_display = (
        *CatalogItemAdmin.list_columns,
        "is_enabled",
        "is_available",
    )
    list_filter = (
        *CatalogItemAdmin.list_filter,
        "type",
        "has_refill",
        "has_cancel",
        MarginFilter,
    )

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "routes_link", "scorecard")

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> tuple:
        refill_rules = (
            "warranty_days",
            "refill_max_per_order",
            "refill_cooldown_hours",
            "refill_deadline_hours",
            "refill_escalation",
        )
        return (
            *super().get_fieldsets(request, obj),
            # The panel's own rules: the catalog sync imports `has_refill` and never these.
            (gettext_lazy("Refill rules"), {"fields": refill_rules}),
            (gettext_lazy("Scorecard"), {"fields": ("scorecard",)}),
            (gettext_lazy("Routes"), {"fields": ("routes_link",)}),
        )

    @admin.display(description=gettext_lazy("Scorecard"))
    def scorecard(self, obj: Service) -> str:
        return scorecard_html(ServiceScore.objects.filter(service_id=obj.pk).first())

    @admin.display(description=gettext_lazy("Routes"))
    def routes_link(self, obj: Service) -> str:
        if not obj.pk:
            return "-"
        routes = (
            reverse("admin:providers_serviceroute_changelist") + f"?service__id__exact={obj.pk}"
        )
        suggest = reverse("admin:providers_service_suggest_routes", args=[obj.pk])
        count = obj.routes.count()
        return format_html(
            '<a href="{}">{}</a> &nbsp; <a class="button" href="{}">{}</a>',
            routes,
            ngettext("%(count)d route", "%(count)d routes", count) % {"count": count},
            suggest,
            _("Suggest routes…"),
        )

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/suggest-routes/",
                self.admin_site.admin_view(self.suggest_routes_view),
                name="providers_service_suggest_routes",
            ),
            *super().get_urls(),
        ]

    @requires_permission("providers.add_serviceroute")
    def suggest_routes_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Other providers' services that look like this one; adding one is a POST."""
        service = get_object_or_404(Service.objects.select_related("provider", "category"), pk=pk)
        if request.method == "POST":
            target = get_object_or_404(Service, pk=request.POST.get("target"))
            try:
                route_add(service=service, target=target, priority=_priority(request.POST))
            except PanelError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Route to %(provider)s #%(id)s added.")
                    % {"provider": target.provider, "id": target.upstream_id},
                )
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Routes for %(service)s") % {"service": service},
            "service": service,
            "rate": money_str(service.rate),
            "routes": service.routes.select_related("target__provider").order_by("priority", "id"),
            "suggestions": route_suggestions(service=service),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/providers/suggest_routes.html", context)


@admin.register(Product)
class ProductAdmin(CatalogItemAdmin):
    upstream_fields = ("require", "stock_status", "is_in_stock", "inventory")
    list_display = (
        *CatalogItemAdmin.list_columns,
        "is_in_stock",
        "inventory",
        "is_enabled",
        "is_available",
    )


def _priority(data: dict) -> int:
    try:
        return max(0, min(int(data.get("priority", 10)), 32767))
    except (TypeError, ValueError):
        return 10
