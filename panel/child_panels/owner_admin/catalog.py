"""The child panel's catalog in its own admin: hide and show services, rename them, and set
markup rules on its provider, its categories and each service, as the parent does on its
providers. The parent's catalog services do the work (catalog_set_on_sale, catalog_reprice,
the holds); every edit moves `updated_at`, so pages and the API's cached `services` answer
follow at once, and the sync never touches these fields."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import money_shown
from core.permissions import requires_permission
from panel.child_panels.owner_admin.scoping import PanelScopedAdmin, scoped_or_404
from providers.admin.catalog import CatalogItemAdmin, HoldFilter
from providers.admin.categories import CategoryAdmin
from providers.models import Category, Provider, Service
from providers.services import catalog_reprice

PRICING_FIELDS = {"markup_percent", "markup_fixed"}
# What the sync brings from the parent: shown, never edited here.
BOUGHT = ("upstream_id", "name", "category", "type", "upstream_rate", "min", "max")


class ServiceAdmin(PanelScopedAdmin, CatalogItemAdmin):
    # On sale first, then what he sells and buys at per 1000: a laptop shows them beside the
    # filters.
    list_display = (
        "id",
        "shown_name",
        "is_enabled",
        "price_shown",
        "cost_shown",
        "category",
        "hold",
    )
    list_filter = (HoldFilter, "is_enabled", ("category", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "name_override", "upstream_id", "=id")
    list_select_related = ("provider", "category")

    @admin.display(description=gettext_lazy("Cost"), ordering="upstream_rate")
    def cost_shown(self, obj: Service) -> str:
        return money_shown(obj.upstream_rate * obj.provider.exchange_rate)

    @admin.display(description=gettext_lazy("Price"), ordering="rate")
    def price_shown(self, obj: Service) -> str:
        return money_shown(obj.rate)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return (*BOUGHT, "rate", "hold_resolve")

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> tuple:
        selling = (
            "name_override",
            "description_vi",
            "description_en",
            "markup_percent",
            "markup_fixed",
            "rate",
            "hold_resolve",
            "is_enabled",
            "sort_order",
        )
        return (
            (gettext_lazy("Bought from the parent (as last synced)"), {"fields": BOUGHT}),
            (gettext_lazy("Selling"), {"fields": selling}),
        )

    @requires_permission("{app_label}.change_{model_name}")
    def resolve_hold_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        scoped_or_404(self, request, pk)
        return super().resolve_hold_view(request, pk)


class CategoriesAdmin(PanelScopedAdmin, CategoryAdmin):
    """The parent's category admin (names per language, order, markup, on-sale actions) on
    this panel's categories; the all-categories words page stays the parent's."""

    change_list_template = "admin/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return ("name", "platform")

    def get_urls(self) -> list:
        return admin.ModelAdmin.get_urls(self)


class ProviderAdmin(PanelScopedAdmin):
    """His one provider, the parent: only its markup is his to set (its address and key are
    the panel's link, made when it was provisioned)."""

    list_display = ("shown_name", "markup_percent", "markup_fixed", "last_synced_at")
    fields = ("shown_name", "markup_percent", "markup_fixed", "last_synced_at")
    readonly_fields = ("shown_name", "last_synced_at")

    @admin.display(description=gettext_lazy("Provider"))
    def shown_name(self, obj: Provider) -> str:
        return _("The parent panel")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and PRICING_FIELDS & set(form.changed_data):
            self.message_user(
                request,
                _("Selling prices recomputed: %(count)d changed.")
                % {"count": catalog_reprice(provider=obj)},
            )


def register(site: admin.AdminSite) -> None:
    site.register(Service, ServiceAdmin)
    site.register(Category, CategoriesAdmin)
    site.register(Provider, ProviderAdmin)
