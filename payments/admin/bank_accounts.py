"""Admin: the bank accounts customers transfer to, each a tab on the add-funds page. The bank is
picked from the NAPAS list (payments.banks) with a search box, never typed as a BIN."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from core.tenancy import current_panel_id
from payments.banks import badge_svg, bank_for
from payments.config import gateway_config
from payments.models import BankAccount, Method


class BankSelect(forms.Select):
    """The bank list with a search box above it: typing a short name, code, a word of the full
    name (with or without accents) or a BIN narrows the list and picks the first match."""

    class Media:
        js = ("payments/bank-select.js",)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        select_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        return format_html(
            '<div class="bank-select"><input type="search" class="vTextField bank-search" '
            'data-for="{}" placeholder="{}" aria-label="{}" autocomplete="off"><br>{}</div>',
            select_id,
            gettext_lazy("Search: Vietcombank, MB, 970436…"),
            gettext_lazy("Search banks"),
            select,
        )


class BankAccountForm(forms.ModelForm):
    class Meta:
        model = BankAccount
        fields = ("bank_bin", "account_number", "holder", "is_active", "position")
        widgets = {"bank_bin": BankSelect}

    def clean_account_number(self) -> str:
        number = self.cleaned_data["account_number"].strip()
        if not (number.isascii() and number.isalnum()):
            raise forms.ValidationError(gettext_lazy("Letters and digits only, no spaces."))
        return number

    def clean_holder(self) -> str:
        return " ".join(self.cleaned_data["holder"].split()).upper()


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    form = BankAccountForm
    list_display = ("badge", "bank_name", "account_number", "holder", "is_active", "position")
    list_display_links = ("badge", "bank_name", "account_number")
    list_editable = ("is_active", "position")
    search_fields = ("account_number", "holder")

    def get_queryset(self, request: HttpRequest) -> QuerySet[BankAccount]:
        # The served panel's own accounts: child panels' owners set theirs on /child-panels/.
        return super().get_queryset(request).filter(child_panel_id=current_panel_id())

    @admin.display(description=gettext_lazy("Logo"))
    def badge(self, obj: BankAccount) -> SafeString:
        return badge_svg(bank_for(obj.bank_bin), bank_bin=obj.bank_bin)

    @admin.display(description=gettext_lazy("Bank"), ordering="bank_bin")
    def bank_name(self, obj: BankAccount) -> str:
        bank = bank_for(obj.bank_bin)
        return f"{bank.short_name} · {bank.name}" if bank else obj.bank_bin

    # Switched off, never deleted: a transfer sent to it later must still find it.
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def accounts_summary() -> SafeString:
    """For the bank transfer settings: the accounts customers see now, and where to change them."""
    accounts = gateway_config(method=Method.BANK).bank_accounts
    shown = format_html_join(
        "",
        '<div class="bank-account-line">{} {} · {}</div>',
        (
            (badge_svg(account.bank, bank_bin=account.bank_bin), account.number, account.holder)
            for account in accounts
        ),
    )
    return format_html(
        '{}<a href="{}">{}</a>',
        shown or format_html("<div>{}</div>", gettext_lazy("None yet.")),
        reverse("admin:payments_bankaccount_changelist"),
        gettext_lazy("Manage the bank accounts"),
    )
