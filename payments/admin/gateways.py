"""Admin: gateway settings, one row per method (credentials write-only), and which service
reports bank transfers."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_money import NUMBER, Money
from core.tenancy import current_panel_id
from payments.admin.bank_accounts import accounts_summary
from payments.config import gateway_config
from payments.gateways import BANK_REPORTERS, bank, bank_reporters
from payments.models import GatewaySettings, Method
from payments.registry import method_labels, secret_fields, settings_fields

COMMON_SETTINGS = ("method", "is_enabled", "currency", "rate", "min_amount", "max_amount")


class GatewaySettingsBaseForm(forms.ModelForm):
    """Credentials are write-only: blank keeps the stored value, they are never shown again.
    Which credentials a method has is its gateways' fact (gateway_settings_form adds them)."""

    # Turning a reporter off: its key stored here is forgotten (one set in the environment
    # stays, and the page keeps saying so).
    forget_reporters = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(gateway.key_field, gateway.name) for gateway in BANK_REPORTERS],
        label=gettext_lazy("Stop these reporters"),
        help_text=gettext_lazy("Forgets the key stored here; its reports are then refused."),
    )

    class Meta:
        model = GatewaySettings
        fields = (*COMMON_SETTINGS, *bank.ACCOUNT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.secrets if self.instance.pk else {}
        for secret in secret_fields():
            self.fields[secret.name].help_text = (
                _("Set; leave empty to keep it.") if stored.get(secret.name) else _("Not set.")
            )

    def clean_transfer_prefix(self) -> str:
        prefix = self.cleaned_data["transfer_prefix"].strip().upper()
        if prefix and not (prefix.isascii() and prefix.isalpha()):
            raise forms.ValidationError(_("Letters A-Z only."))
        return prefix

    def save(self, commit: bool = True) -> GatewaySettings:
        settings_row = super().save(commit=False)
        allowed = [secret.name for secret in secret_fields(settings_row.method)]
        # Only this method's credentials are kept: anything else an older version stored (an
        # API base URL) is dropped on the next save.
        stored = settings_row.secrets if settings_row.pk else {}
        secrets = {name: stored[name] for name in allowed if stored.get(name)}
        for name in allowed:
            if value := self.cleaned_data.get(name, "").strip():
                secrets[name] = value
        for name in self.cleaned_data.get("forget_reporters") or ():
            secrets.pop(name, None)
        settings_row.secrets = {name: value for name, value in secrets.items() if value}
        if commit:
            settings_row.save()
        return settings_row


def gateway_settings_form() -> type[GatewaySettingsBaseForm]:
    """The form with one write-only field per credential the registered gateways declare."""
    fields = {
        secret.name: forms.CharField(required=False, widget=forms.PasswordInput, label=secret.label)
        for secret in secret_fields()
    }
    return type("GatewaySettingsForm", (GatewaySettingsBaseForm,), fields)


def _method_fieldsets(only: str | None = None) -> tuple[tuple[object, dict], ...]:
    """A section per method (or for the one method `only`): the settings its gateways use, then
    their credentials."""
    return tuple(
        (
            label,
            {
                "fields": (
                    *settings_fields(method),
                    *(secret.name for secret in secret_fields(method)),
                    *(
                        ("accounts", "reporters", "forget_reporters")
                        if method == Method.BANK
                        else ()
                    ),
                )
            },
        )
        for method, label in method_labels().items()
        if only is None or method == only
    )


@admin.register(GatewaySettings)
class GatewaySettingsAdmin(admin.ModelAdmin):
    # Limits in the gateway's currency; its rate is an exchange rate (core.admin_money).
    money_currencies = {
        "min_amount": Money("currency"),
        "max_amount": Money("currency"),
        "rate": NUMBER,
    }
    list_display = (*COMMON_SETTINGS, "updated_at")
    readonly_fields = ("accounts", "reporters")

    # Built per request from the registry: a gateway's credentials are its own fact.
    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = gateway_settings_form()
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # A saved row is one method's: the other methods' credentials would only confuse.
        only = obj.method if isinstance(obj, GatewaySettings) else None
        return ((None, {"fields": COMMON_SETTINGS}), *_method_fieldsets(only))

    def get_queryset(self, request: HttpRequest) -> QuerySet[GatewaySettings]:
        # The served panel's own rows: child panels' owners set theirs on /child-panels/.
        return super().get_queryset(request).filter(child_panel_id=current_panel_id())

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Bank accounts"))
    def accounts(self, obj: GatewaySettings | None = None) -> str:
        return accounts_summary()

    @admin.display(description=gettext_lazy("Reporting transfers"))
    def reporters(self, obj: GatewaySettings | None = None) -> str:
        return reporters_text()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._warn_two_reporters(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            self._warn_two_reporters(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _warn_two_reporters(self, request: HttpRequest) -> None:
        if len(bank_reporters(gateway_config(method=Method.BANK))) > 1:
            self.message_user(request, two_reporters_warning(), messages.WARNING)


def two_reporters_warning() -> str:
    return _(
        "Both SePay and Casso report bank transfers. A transfer both report is credited once "
        "when their reports carry the same bank reference, account, amount and date; to be "
        "sure, keep one: switch the other's webhook off in its dashboard and stop it here."
    )


def reporters_text() -> str:
    """Which service reports bank transfers, as in force (the admin's keys over the
    environment's)."""
    names = [gateway.name for gateway in bank_reporters(gateway_config(method=Method.BANK))]
    if not names:
        return _("None: set the SePay API key or the Casso checksum key.")
    if len(names) == 1:
        return _("%(name)s is the active reporter.") % {"name": names[0]}
    return two_reporters_warning()
