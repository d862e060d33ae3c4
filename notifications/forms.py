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
            "email_rank_promoted",
        )
