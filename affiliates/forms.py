from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import MONEY_DIGITS, MONEY_PLACES


class MoveForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, min_value=0
    )


class PayoutForm(MoveForm):
    details = forms.CharField(
        label=_("Where to send it"),
        max_length=255,
        help_text=_("Bank, account number and account holder."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ReferrerForm(ReasonForm):
    referrer = forms.CharField(
        label=_("New referrer's username"),
        max_length=150,
        required=False,
        help_text=_("Empty: nobody referred this customer."),
    )
