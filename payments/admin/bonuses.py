"""Admin: bonus rules."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import percent_shown
from payments.models import BonusRule


@admin.register(BonusRule)
class BonusRuleAdmin(admin.ModelAdmin):
    list_display = ("gateway_shown", "min_amount", "percent_shown", "is_enabled")
    list_filter = ("gateway", "is_enabled")
    list_editable = ("is_enabled",)

    # A rule for every gateway keeps the column empty, which the list wrote as "-".
    @admin.display(description=_("gateway"), ordering="gateway")
    def gateway_shown(self, obj: BonusRule) -> str:
        # A gateway no longer offered has no label: its code.
        return obj.get_gateway_display() if obj.gateway else gettext("every gateway")

    # As the reader's language writes a percent ("10,5%"), not the column's padded "10.50".
    @admin.display(description=_("percent"), ordering="percent")
    def percent_shown(self, obj: BonusRule) -> str:
        return percent_shown(obj.percent)
