"""Admin: bonus rules."""

from django.contrib import admin

from payments.models import BonusRule


@admin.register(BonusRule)
class BonusRuleAdmin(admin.ModelAdmin):
    list_display = ("gateway", "min_amount", "percent", "is_enabled")
    list_filter = ("gateway", "is_enabled")
    list_editable = ("is_enabled",)
