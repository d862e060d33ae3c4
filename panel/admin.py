from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PricingTier
from core.money import percent_shown
from notifications.services import ranks_assign

# The child panels' admin lives with the rest of child panels; importing it registers it.
from panel.child_panels import admin as child_panels_admin  # noqa: F401

# A child panel's own admin site: imported here so Django's checks see its ModelAdmins.
from panel.child_panels import owner_admin  # noqa: F401
from panel.models import Notice
from panel.notices import notice_html


# Registered here, above notifications, because a save moves customers up at once and each
# promotion writes its email (notifications.services.ranks_assign); accounts cannot reach it.
@admin.register(PricingTier)
class RankAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_vi",
        "basis",
        "threshold",
        "percent_off_shown",
        "unlocks_child_panels",
        "affiliate_percent_shown",
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

    # A percent as the reader's language writes it ("2,5%"), not the column's padded "2.50".
    @admin.display(description=_("percent off"), ordering="percent_off")
    def percent_off_shown(self, obj: PricingTier) -> str:
        return percent_shown(obj.percent_off)

    @admin.display(description=_("affiliate percent"), ordering="affiliate_percent")
    def affiliate_percent_shown(self, obj: PricingTier) -> str | None:
        percent = obj.affiliate_percent
        return None if percent is None else percent_shown(percent)

    @admin.display(description=_("Customers"))
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
        description=_("Move customers up to the ranks they reached now"), permissions=["change"]
    )
    def assign_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, _moved_text(ranks_assign()))


def _moved_text(moves: list) -> str:
    promoted = sum(1 for move in moves if move.is_promotion)
    moved = ngettext(
        "Ranks reassigned: %(count)d customer moved, %(promoted)d promoted (each emailed).",
        "Ranks reassigned: %(count)d customers moved, %(promoted)d promoted (each emailed).",
        len(moves),
    ) % {"count": len(moves), "promoted": promoted}
    return f"{moved} {_('Nobody is moved down, except off a rank that was disabled or deleted.')}"


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """The three notices are edited in place (panel.change_notice); the migration created them.
    Adding (panel.add_notice) is offered only while a kind is missing; nothing is deleted."""

    list_display = ("__str__", "is_active", "text_format", "updated_at")
    fields = ("kind", "is_active", "text_format", "body_vi", "body_en", "preview")
    readonly_fields = ("preview",)

    def get_readonly_fields(self, request: HttpRequest, obj: Notice | None = None) -> tuple:
        return ("kind", "preview") if obj is not None else ("preview",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        missing = Notice.objects.count() < len(Notice.Kind.values)
        return missing and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        return False

    @admin.display(description=_("Preview (as saved, in the admin's language)"))
    def preview(self, obj: Notice) -> str:
        return notice_html(obj, language=get_language() or "vi") if obj.pk else ""
