"""Admin: bonus rules."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.money import percent_shown
from payments.models import BonusRule


@admin.register(BonusRule)
class BonusRuleAdmin(admin.ModelAdmin):
    list_display = ("gateway", "min_amount", "percent_shown", "is_enabled")
    list_filter = ("gateway", "is_enabled")
    list_editable = ("is_enabled",)

    # As the reader's language writes a percent ("10,5%"), not the column's padded "10.50".
    @admin.display(description=_("percent"), ordering="percent")
    def percent_shown(self, obj: BonusRule) -> str:
        return percent_shown(obj.percent)
