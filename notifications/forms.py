from django import forms

from notifications.models import Preferences


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
        )
