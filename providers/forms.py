from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import PanelError
from providers.models import Provider, ServiceRoute
from providers.services.routes import route_check


class ProviderAdminForm(forms.ModelForm):
    """The key is write-only: never rendered back, kept when left blank."""

    api_url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label=_("API URL"),
        help_text=_("The provider's v2 endpoint, e.g. https://example.com/api/v2"),
    )
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        label=_("API key"),
        help_text=_("Stored encrypted and never shown again. Leave blank to keep the current key."),
    )

    class Meta:
        model = Provider
        fields = [
            "name",
            "api_url",
            "api_key",
            "currency",
            "exchange_rate",
            "is_enabled",
            "markup_percent",
            "markup_fixed",
            "new_items_on_sale",
            "low_balance_threshold",
            "poll_concurrency",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.instance.pk and not data.get("api_key"):
            self.add_error("api_key", _("A new provider needs its API key."))
        return data

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            provider.api_key = self.cleaned_data["api_key"]
        if commit:
            provider.save()
        return provider


class ServiceRouteForm(forms.ModelForm):
    """A new route is checked by the same rule route_add applies (type, no duplicate)."""

    class Meta:
        model = ServiceRoute
        fields = ["service", "target", "priority", "is_enabled"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        service, target = data.get("service"), data.get("target")
        if self.instance.pk is None and service is not None and target is not None:
            try:
                route_check(service=service, target=target)
            except PanelError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data
