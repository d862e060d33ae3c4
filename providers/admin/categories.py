"""The imported catalog's categories, with the page that names them in each language."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin_money import Money
from core.ids import parse_id
from core.permissions import requires_permission
from providers.models import Category, Service
from providers.platforms import Platform
from providers.services import (
    CategoryWords,
    catalog_reprice,
    catalog_set_on_sale,
    category_words_update,
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


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    # Added to rates per 1000: every stored digit (core.admin_money).
    money_currencies = {"markup_fixed": Money(exact=True)}
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
