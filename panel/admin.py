from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import PricingTier
from notifications.services import ranks_assign

# The child panels' admin lives with the rest of child panels; importing it registers it.
from panel.child_panels import admin as child_panels_admin  # noqa: F401

admin.site.site_header = "SMM panel administration"
admin.site.site_title = "SMM panel admin"
admin.site.index_title = "Run the panel"


# Registered here, above notifications, because a save moves customers up at once and each
# promotion writes its email (notifications.services.ranks_assign); accounts cannot reach it.
@admin.register(PricingTier)
class RankAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_vi",
        "basis",
        "threshold",
        "percent_off",
        "unlocks_child_panels",
        "affiliate_percent",
        "is_active",
        "user_count",
    )
    list_filter = ("basis", "is_active")
    fields = (
        "name",
        "name_vi",
        "basis",
        "threshold",
        "percent_off",
        "unlocks_child_panels",
        "affiliate_percent",
        "is_active",
    )
    actions = ["assign_now"]

    @admin.display(description="Customers")
    def user_count(self, obj: PricingTier) -> int:
        return obj.users.count()

    def save_model(
        self, request: HttpRequest, obj: PricingTier, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        self.message_user(request, _moved_text(ranks_assign()))

    def delete_model(self, request: HttpRequest, obj: PricingTier) -> None:
        super().delete_model(request, obj)
        self.message_user(request, _moved_text(ranks_assign()))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        self.message_user(request, _moved_text(ranks_assign()))

    @admin.action(
        description="Move customers up to the ranks they reached now", permissions=["change"]
    )
    def assign_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, _moved_text(ranks_assign()))


def _moved_text(moves: list) -> str:
    promoted = sum(1 for move in moves if move.is_promotion)
    return (
        f"Ranks reassigned: {len(moves)} customer(s) moved, {promoted} promoted (each emailed). "
        "Nobody is moved down, except off a rank that was disabled or deleted."
    )
