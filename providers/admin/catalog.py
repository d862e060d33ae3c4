"""The imported catalog: categories, services, products and their change log."""

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.errors import PanelError
from core.ids import parse_id
from core.money import money_str
from core.permissions import requires_permission
from providers.admin.held import HoldFilter, HoldsAdmin
from providers.admin.scorecards import scorecard_html
from providers.models import (
    CHANGE_FIELD_NAMES,
    CHANGE_VALUE_NAMES,
    CatalogChange,
    Category,
    Product,
    Service,
    ServiceScore,
)
from providers.platforms import Platform
from providers.selectors import route_suggestions
from providers.services import (
    CategoryWords,
    catalog_reprice,
    catalog_set_on_sale,
    category_words_update,
    route_add,
)

# Three inputs a row: a page stays well under DATA_UPLOAD_MAX_NUMBER_FIELDS.
WORDS_PER_PAGE = 100


def _posted_words(request: HttpRequest) -> list[CategoryWords]:
    """The rows of the words page as posted: one per id listed in `ids`."""
    rows = []
    for raw in request.POST.getlist("ids"):
        category_id = parse_id(raw)
        if category_id is None:
            continue
        rows.append(
            CategoryWords(
                category_id=category_id,
                name_vi=request.POST.get(f"name_vi_{category_id}", ""),
                name_en=request.POST.get(f"name_en_{category_id}", ""),
                platform_override=request.POST.get(f"platform_{category_id}", ""),
            )
        )
    return rows


class MarginFilter(admin.SimpleListFilter):
    title = gettext_lazy("margin")
    parameter_name = "margin"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("losing", _("Cost not below price"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "losing":
            return queryset.filter(rate__lte=F("upstream_rate") * F("provider__exchange_rate"))
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_vi",
        "name_en",
        "platform_shown",
        "sort_order",
        "markup_percent",
        "markup_fixed",
        "service_count",
    )
    list_editable = ("sort_order",)
    list_filter = ("platform", "platform_override")
    search_fields = ("name", "name_vi", "name_en")
    actions = ["put_on_sale", "take_off_sale"]
    change_list_template = "admin/providers/category/change_list.html"
    fields = (
        "name",
        "name_vi",
        "name_en",
        "platform",
        "platform_override",
        "sort_order",
        "markup_percent",
        "markup_fixed",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        # The provider's name is the key the sync finds the category by (catalog.sync): the
        # operator's names are name_vi / name_en.
        return ("platform",) if obj is None else ("name", "platform")

    @admin.display(description=gettext_lazy("Platform"), ordering="platform")
    def platform_shown(self, obj: Category) -> str:
        return str(Platform(obj.shown_platform).label)

    def get_urls(self) -> list:
        return [
            path(
                "words/",
                self.admin_site.admin_view(self.words_view),
                name="providers_category_words",
            ),
            *super().get_urls(),
        ]

    @requires_permission("{app_label}.change_{model_name}")
    def words_view(self, request: HttpRequest) -> HttpResponse:
        """Every category's names per language and platform on one page, saved at once."""
        if request.method == "POST":
            changed = category_words_update(rows=_posted_words(request))
            self.message_user(
                request,
                ngettext("%(count)d category changed.", "%(count)d categories changed.", changed)
                % {"count": changed},
            )
            return HttpResponseRedirect(request.get_full_path())
        search = request.GET.get("q", "").strip()
        categories = Category.objects.annotate(
            services=Count("service", distinct=True), products=Count("product", distinct=True)
        ).order_by("sort_order", "name")
        if search:
            categories = categories.filter(
                Q(name__icontains=search)
                | Q(name_vi__icontains=search)
                | Q(name_en__icontains=search)
            )
        page = Paginator(categories, WORDS_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Category names and platforms"),
            "page": page,
            "search": search,
            "platforms": Platform.choices,
        }
        return TemplateResponse(request, "admin/providers/category/words.html", context)

    @admin.display(description=gettext_lazy("Services"))
    def service_count(self, obj: Category) -> int:
        return obj.service_set.count()

    def save_model(self, request: HttpRequest, obj: Category, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"markup_percent", "markup_fixed"} & set(form.changed_data):  # type: ignore[attr-defined]
            self.message_user(
                request,
                _("Selling prices recomputed: %(count)d changed.")
                % {"count": catalog_reprice(category=obj)},
            )

    @admin.action(
        description=gettext_lazy("Put every service of these categories on sale"),
        permissions=["change"],
    )
    def put_on_sale(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = catalog_set_on_sale(
            items=Service.objects.filter(category__in=queryset), on_sale=True
        )
        self.message_user(
            request,
            ngettext("%(count)d service put on sale.", "%(count)d services put on sale.", changed)
            % {"count": changed},
        )

    @admin.action(
        description=gettext_lazy("Take every service of these categories off sale"),
        permissions=["change"],
    )
    def take_off_sale(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = catalog_set_on_sale(
            items=Service.objects.filter(category__in=queryset), on_sale=False
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d service taken off sale.", "%(count)d services taken off sale.", changed
            )
            % {"count": changed},
        )


class CatalogItemAdmin(HoldsAdmin):
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


class ChangedFieldFilter(admin.SimpleListFilter):
    """The changed field, named as the Updates page names it."""

    title = gettext_lazy("field")
    parameter_name = "field"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        fields = (
            CatalogChange.objects.exclude(field="")
            .order_by("field")
            .values_list("field", flat=True)
            .distinct()
        )
        return [(name, CHANGE_FIELD_NAMES.get(name, name)) for name in fields]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(field=self.value()) if self.value() else queryset


@admin.register(CatalogChange)
class CatalogChangeAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "provider",
        "kind",
        "item",
        "field_shown",
        "old_shown",
        "new_shown",
        "is_public",
    )
    list_filter = ("provider", "kind", ChangedFieldFilter, "is_public")
    search_fields = ("service__name", "product__name", "=service__id", "=product__id")
    list_select_related = ("provider", "service", "product")
    date_hierarchy = "created_at"

    @admin.display(description=gettext_lazy("Item"))
    def item(self, obj: CatalogChange) -> str:
        return str(obj.service or obj.product)

    # The log stores the sync's own words (field names, "yes"/"no"); these read them out.
    @admin.display(description=gettext_lazy("field"), ordering="field")
    def field_shown(self, obj: CatalogChange) -> str:
        return str(CHANGE_FIELD_NAMES.get(obj.field, obj.field))

    @admin.display(description=gettext_lazy("old value"))
    def old_shown(self, obj: CatalogChange) -> str:
        return str(CHANGE_VALUE_NAMES.get(obj.old_value, obj.old_value))

    @admin.display(description=gettext_lazy("new value"))
    def new_shown(self, obj: CatalogChange) -> str:
        return str(CHANGE_VALUE_NAMES.get(obj.new_value, obj.new_value))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _priority(data: dict) -> int:
    try:
        return max(0, min(int(data.get("priority", 10)), 32767))
    except (TypeError, ValueError):
        return 10
