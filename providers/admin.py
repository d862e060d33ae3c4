from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import PanelError
from core.money import money_str
from core.permissions import requires_permission
from providers.errors import ProviderError
from providers.forms import ProviderAdminForm, ServiceRouteForm
from providers.models import (
    CatalogChange,
    Category,
    PriceOverride,
    Product,
    Provider,
    Service,
    ServiceRoute,
)
from providers.selectors import route_suggestions
from providers.services import (
    catalog_reprice,
    catalog_set_on_sale,
    catalog_sync,
    provider_check,
    route_add,
    route_update,
)

_PRICING_FIELDS = {"markup_percent", "markup_fixed", "exchange_rate"}


class HealthFilter(admin.SimpleListFilter):
    """The dashboard's "what needs hands" links land here."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("low_balance", "Low balance"), ("key_refused", "Key refused")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "low_balance":
            return queryset.filter(balance__lt=F("low_balance_threshold"))
        if self.value() == "key_refused":
            return queryset.filter(credentials_failed_at__isnull=False)
        return queryset


class MarginFilter(admin.SimpleListFilter):
    title = "margin"
    parameter_name = "margin"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("losing", "Cost not below price")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "losing":
            return queryset.filter(rate__lte=F("upstream_rate") * F("provider__exchange_rate"))
        return queryset


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderAdminForm
    list_display = (
        "name",
        "host",
        "currency",
        "balance_display",
        "health",
        "is_enabled",
        "markup_percent",
        "last_synced_at",
    )
    list_filter = ("is_enabled", "currency", HealthFilter)
    search_fields = ("name",)  # not the URL: searching it would reveal credentials in it
    readonly_fields = (
        "balance_display",
        "balance_checked_at",
        "health",
        "last_error",
        "last_error_at",
        "last_synced_at",
        "changes_link",
    )
    actions = ["sync_catalog", "check_balance", "resume_dispatch"]
    fieldsets = (
        (None, {"fields": ("name", "api_url", "api_key", "is_enabled")}),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "exchange_rate",
                    "markup_percent",
                    "markup_fixed",
                    "low_balance_threshold",
                    "balance_display",
                    "balance_checked_at",
                )
            },
        ),
        ("Catalog", {"fields": ("new_items_on_sale", "last_synced_at", "changes_link")}),
        ("Health", {"fields": ("health", "last_error", "last_error_at")}),
        (_("Polling"), {"fields": ("poll_concurrency",)}),
    )

    @admin.display(description="API host")
    def host(self, obj: Provider) -> str:
        # hostname and port only: an API URL may carry `user:password@`, and the list is seen
        # by every staff user who may view providers.
        parts = urlsplit(obj.api_url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host

    # Calls to the provider run with no database transaction open (ATOMIC_REQUESTS would hold
    # one for the whole request, across an upstream call of up to the read timeout): these views
    # manage their own transactions, and the check after a save waits for its commit.
    @method_decorator(transaction.non_atomic_requests)
    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, extra_context)

    @method_decorator(transaction.non_atomic_requests)
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        return super().add_view(request, form_url, extra_context)

    @method_decorator(transaction.non_atomic_requests)
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Balance")
    def balance_display(self, obj: Provider) -> str:
        if obj.balance is None:
            return "not checked"
        text = f"{obj.balance} {obj.balance_currency}"
        if obj.is_low_balance:
            return format_html('<strong style="color:#c01048">{} — low</strong>', text)
        return text

    @admin.display(description="Dispatch")
    def health(self, obj: Provider) -> str:
        if not obj.is_enabled:
            return "disabled"
        if obj.credentials_failed_at:
            return format_html(
                '<strong style="color:#c01048">key refused since {}</strong>',
                obj.credentials_failed_at.strftime("%Y-%m-%d %H:%M"),
            )
        if obj.dispatch_paused_until and obj.dispatch_paused_until > timezone.now():
            return format_html(
                '<span style="color:#b54708">paused until {}</span>',
                obj.dispatch_paused_until.strftime("%H:%M:%S"),
            )
        return "ok"

    @admin.display(description="Change log")
    def changes_link(self, obj: Provider) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:providers_catalogchange_changelist") + f"?provider__id__exact={obj.pk}"
        return format_html('<a href="{}">Catalog changes of {}</a>', url, obj.name)

    def save_model(
        self, request: HttpRequest, obj: Provider, form: ProviderAdminForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and _PRICING_FIELDS & set(form.changed_data):
            repriced = catalog_reprice(provider=obj)
            self.message_user(request, f"Selling prices recomputed: {repriced} changed.")
        # The admin saves inside its own transaction; the provider is asked once it committed.
        transaction.on_commit(lambda: self._check(request, obj))

    def _check(self, request: HttpRequest, provider: Provider) -> None:
        try:
            balance = provider_check(provider=provider)
        except ProviderError as exc:
            self.message_user(
                request, f"{provider.name}: check failed: {exc.message}", messages.ERROR
            )
        else:
            level = messages.WARNING if provider.is_low_balance else messages.SUCCESS
            self.message_user(
                request,
                f"{provider.name} answers: balance {balance.balance} {balance.currency}.",
                level,
            )
            if balance.currency and balance.currency.upper() != provider.currency.upper():
                self.message_user(
                    request,
                    f"{provider.name} bills in {balance.currency}, but its currency is set to {provider.currency}.",
                    messages.WARNING,
                )

    @admin.action(description="Sync catalog now", permissions=["change"])
    def sync_catalog(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                summary = catalog_sync(provider=provider)
            except ProviderError as exc:
                self.message_user(
                    request, f"{provider.name}: sync failed: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(request, str(summary), messages.SUCCESS)

    @admin.action(description="Check balance and credentials", permissions=["change"])
    def check_balance(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            self._check(request, provider)

    @admin.action(description="Resume sending orders (clears a pause)", permissions=["change"])
    def resume_dispatch(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        resumed = queryset.update(dispatch_paused_until=None)
        self.message_user(
            request, f"{resumed} provider(s) resumed; a refused key clears when a check passes."
        )
        for provider in queryset.filter(credentials_failed_at__isnull=False):
            self._check(request, provider)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "sort_order", "markup_percent", "markup_fixed", "service_count")
    list_editable = ("sort_order",)
    search_fields = ("name",)
    actions = ["put_on_sale", "take_off_sale"]

    @admin.display(description="Services")
    def service_count(self, obj: Category) -> int:
        return obj.service_set.count()

    def save_model(self, request: HttpRequest, obj: Category, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"markup_percent", "markup_fixed"} & set(form.changed_data):  # type: ignore[attr-defined]
            self.message_user(
                request, f"Selling prices recomputed: {catalog_reprice(category=obj)} changed."
            )

    @admin.action(
        description="Put every service of these categories on sale", permissions=["change"]
    )
    def put_on_sale(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = catalog_set_on_sale(
            items=Service.objects.filter(category__in=queryset), on_sale=True
        )
        self.message_user(request, f"{changed} service(s) put on sale.")

    @admin.action(
        description="Take every service of these categories off sale", permissions=["change"]
    )
    def take_off_sale(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = catalog_set_on_sale(
            items=Service.objects.filter(category__in=queryset), on_sale=False
        )
        self.message_user(request, f"{changed} service(s) taken off sale.")


class CatalogItemAdmin(admin.ModelAdmin):
    list_filter: ClassVar[tuple[Any, ...]] = (
        "provider",
        "is_enabled",
        "is_available",
        "is_rate_pinned",
        "category",
    )
    search_fields = ("name", "name_override", "upstream_id", "=id")
    list_select_related = ("provider", "category")
    list_editable = ("is_enabled",)
    list_per_page = 100
    actions = ["put_on_sale", "take_off_sale"]
    _pricing = {"markup_percent", "markup_fixed", "is_rate_pinned", "rate", "category"}
    upstream_fields: tuple[str, ...] = ()  # what the kind imports besides the shared fields
    selling_extra: tuple[str, ...] = ()  # what an admin sets besides the shared fields

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # orders point at catalog items: they are taken off sale, never deleted

    def _imported(self) -> tuple[str, ...]:
        shared = ("provider", "upstream_id", "name", "type", "upstream_rate", "min", "max")
        return (*shared, *self.upstream_fields, "is_available", "removed_at")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return (*self._imported(), "created_at", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> tuple:
        selling = (
            "name_override",
            "category",
            "description",
            "rate",
            "is_rate_pinned",
            "markup_percent",
            "markup_fixed",
            *self.selling_extra,
            "is_enabled",
            "sort_order",
        )
        return (
            ("Upstream (as last imported)", {"fields": self._imported()}),
            ("Selling", {"fields": selling}),
        )

    def save_model(
        self, request: HttpRequest, obj: Service | Product, form: object, change: bool
    ) -> None:
        if "rate" in form.changed_data and not obj.is_rate_pinned:  # type: ignore[attr-defined]
            obj.is_rate_pinned = True  # a price typed by hand is meant to stay
            self.message_user(
                request, f"The price of {obj} is now pinned; unpin it to follow the markup again."
            )
        super().save_model(request, obj, form, change)
        if change and self._pricing & set(form.changed_data) and not obj.is_rate_pinned:  # type: ignore[attr-defined]
            if isinstance(obj, Service):
                catalog_reprice(service_ids=[obj.pk])
            else:
                catalog_reprice(product_ids=[obj.pk])

    @admin.action(description="Put on sale", permissions=["change"])
    def put_on_sale(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(
            request, f"{catalog_set_on_sale(items=queryset, on_sale=True)} put on sale."
        )

    @admin.action(description="Take off sale", permissions=["change"])
    def take_off_sale(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(
            request, f"{catalog_set_on_sale(items=queryset, on_sale=False)} taken off sale."
        )


@admin.register(Service)
class ServiceAdmin(CatalogItemAdmin):
    upstream_fields = ("has_refill", "has_cancel", "has_dripfeed")
    selling_extra = ("quantity_step",)
    list_display = (
        "id",
        "display_name",
        "provider",
        "upstream_id",
        "category",
        "type",
        "upstream_rate",
        "rate",
        "is_rate_pinned",
        "min",
        "max",
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
        return (*super().get_readonly_fields(request, obj), "routes_link")

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> tuple:
        return (*super().get_fieldsets(request, obj), ("Routes", {"fields": ("routes_link",)}))

    @admin.display(description="Routes")
    def routes_link(self, obj: Service) -> str:
        if not obj.pk:
            return "-"
        routes = (
            reverse("admin:providers_serviceroute_changelist") + f"?service__id__exact={obj.pk}"
        )
        suggest = reverse("admin:providers_service_suggest_routes", args=[obj.pk])
        return format_html(
            '<a href="{}">{} route(s)</a> &nbsp; <a class="button" href="{}">Suggest routes…</a>',
            routes,
            obj.routes.count(),
            suggest,
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
                    request, f"Route to {target.provider} #{target.upstream_id} added."
                )
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Routes for {service}",
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
        "id",
        "display_name",
        "provider",
        "upstream_id",
        "category",
        "type",
        "upstream_rate",
        "rate",
        "is_rate_pinned",
        "min",
        "max",
        "is_in_stock",
        "inventory",
        "is_enabled",
        "is_available",
    )


@admin.register(CatalogChange)
class CatalogChangeAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "provider",
        "kind",
        "item",
        "field",
        "old_value",
        "new_value",
        "is_public",
    )
    list_filter = ("provider", "kind", "field", "is_public")
    search_fields = ("service__name", "product__name", "=service__id", "=product__id")
    list_select_related = ("provider", "service", "product")
    date_hierarchy = "created_at"

    @admin.display(description="Item")
    def item(self, obj: CatalogChange) -> str:
        return str(obj.service or obj.product)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _priority(data: dict) -> int:
    try:
        return max(0, min(int(data.get("priority", 10)), 32767))
    except (TypeError, ValueError):
        return 10


@admin.register(ServiceRoute)
class ServiceRouteAdmin(admin.ModelAdmin):
    """Routes are added through the service's "Suggest routes" page or here (both call
    route_add); only priority and the enabled flag change afterwards."""

    list_display = (
        "service",
        "target_provider",
        "target_upstream_id",
        "priority",
        "is_enabled",
        "cost_rate",
        "selling_rate",
        "is_profitable",
    )
    list_filter = ("is_enabled", "is_profitable", "target__provider")
    list_select_related = ("service", "target__provider")
    search_fields = ("=service__id", "service__name", "target__upstream_id")
    raw_id_fields = ("service", "target")
    readonly_fields = ("cost_rate", "is_profitable", "created_at", "updated_at")
    form = ServiceRouteForm

    @admin.display(description="Provider")
    def target_provider(self, obj: ServiceRoute) -> str:
        return obj.target.provider.name

    @admin.display(description="Provider's service id")
    def target_upstream_id(self, obj: ServiceRoute) -> str:
        return obj.target.upstream_id

    @admin.display(description="Selling rate")
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

    list_display = ("user", "service", "rate", "service_rate", "updated_at")
    list_select_related = ("user", "service")
    search_fields = ("user__username", "=service__id", "service__name")
    raw_id_fields = ("user", "service")

    @admin.display(description="Service price")
    def service_rate(self, obj: PriceOverride) -> object:
        return obj.service.rate
