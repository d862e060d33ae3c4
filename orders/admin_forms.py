from django import forms

from accounts.models import User
from orders.type_rules import TYPE_FIELDS
from providers.models import Service


class AdminOrderForm(forms.Form):
    """Place an order for a customer: the same service as the web form and the API."""

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("username"))
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(is_enabled=True, is_available=True).select_related(
            "category"
        )
    )
    link = forms.CharField(required=False, max_length=1000)
    quantity = forms.CharField(required=False)
    runs = forms.CharField(required=False)
    interval = forms.CharField(required=False, help_text="Minutes between drip-feed runs.")
    extra = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"The type's own fields as `name: value` lines ({', '.join(TYPE_FIELDS)}); "
        "for multi-line fields repeat the name on each line.",
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


class UpstreamIdForm(forms.Form):
    upstream_id = forms.CharField(max_length=64, label="The provider's id for it")
