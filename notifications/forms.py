from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Preferences, WebhookEvent


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = (
            "email_order_final",
            "email_refill_final",
            "email_ticket_answered",
            "email_deposit_credited",
            "telegram_order_final",
            "telegram_refill_final",
            "telegram_ticket_answered",
            "telegram_deposit_credited",
            "telegram_rank_promoted",
            "email_rank_promoted",
        )


class WebhookEndpointForm(forms.Form):
    """An endpoint's URL (when added), its events and its balance threshold."""

    url = forms.URLField(
        label=_("Endpoint URL"), max_length=500, required=False, assume_scheme="https"
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    balance_threshold = forms.DecimalField(
        label=_("Balance low under"),
        required=False,
        min_value=Decimal(0),
        max_digits=20,
        decimal_places=6,
        help_text=_("The balance low event fires once each time your balance drops under this."),
    )

    def __init__(self, *args: Any, is_new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].required = is_new
