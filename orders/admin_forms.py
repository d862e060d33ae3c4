from typing import Any

from django import forms
from django.utils.html import format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from orders.type_rules import TYPE_FIELDS
from providers.models import Service


class AdminOrderForm(forms.Form):
    """Place an order for a customer: the same service as the web form and the API."""

    user = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.on_sale().select_related("category")
    )
    link = forms.CharField(label=_("Link"), required=False, max_length=1000)
    quantity = forms.CharField(label=_("Quantity"), required=False)
    runs = forms.CharField(label=_("Runs"), required=False)
    interval = forms.CharField(
        label=_("Interval"), required=False, help_text=_("Minutes between drip-feed runs.")
    )
    extra = forms.CharField(
        label=_("Other fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        # The names are the protocol's (docs/protocol.md): typed as they are, in any language.
        help_text=format_lazy(
            _(
                "The type's own fields as `name: value` lines ({fields}); for multi-line fields "
                "repeat the name on each line."
            ),
            fields=format_html_join(", ", "<code>{}</code>", ((name,) for name in TYPE_FIELDS)),
        ),
    )

    def as_order_fields(self) -> dict[str, str]:
        data = self.cleaned_data
        fields = {
            name: data[name] for name in ("link", "quantity", "runs", "interval") if data.get(name)
        }
        extra: dict[str, list[str]] = {}
        for line in (data.get("extra") or "").splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() in TYPE_FIELDS:
                extra.setdefault(name.strip(), []).append(value.strip())
        fields.update({name: "\n".join(values) for name, values in extra.items()})
        return fields


class ResolveForm(forms.Form):
    """One admin resolution of a row in review; the choices are what its reason allows."""

    resolution = forms.ChoiceField(label=_("Resolution"), widget=forms.RadioSelect)
    upstream_id = forms.CharField(
        required=False, max_length=64, label=_("The provider's id for it (to attach)")
    )
    delivered = forms.IntegerField(
        required=False, min_value=0, label=_("Delivered quantity (to finish as Partial)")
    )
    upstream_charge = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=20,
        decimal_places=8,
        label=_("Or the provider's charge for it, provider currency (to finish as Partial)"),
    )
    confirmed_absent = forms.BooleanField(
        required=False, label=_("I checked the provider's panel: it is not there (to send again)")
    )

    # The fields each resolution reads; the others are not shown.
    NEEDS = {
        "attach": ("upstream_id",),
        "partial": ("delivered", "upstream_charge"),
        "send_again": ("confirmed_absent",),
    }

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resolution"].choices = choices  # type: ignore[attr-defined]
        if len(choices) == 1:
            self.fields["resolution"].initial = choices[0][0]
        offered = {value for value, _label in choices}
        needed = {name for value in offered for name in self.NEEDS.get(value, ())}
        for name in {name for names in self.NEEDS.values() for name in names} - needed:
            del self.fields[name]

    def answer_value(self, name: str) -> Any:
        return self.cleaned_data.get(name)


class BulkAttachForm(forms.Form):
    lines = forms.CharField(
        label=_("One order per line: panel order id, upstream order id"),
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60}),
        max_length=200_000,
    )


class ConfirmAbsentForm(forms.Form):
    confirmed_absent = forms.BooleanField(
        label=_("I checked the provider's panel: none of these is there")
    )
