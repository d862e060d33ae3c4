"""The imported catalog's change log."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from providers.models import CHANGE_FIELD_NAMES, CHANGE_VALUE_NAMES, CatalogChange


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
