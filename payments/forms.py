from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import MONEY_DIGITS, MONEY_PLACES


class AmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal("0.01"),
    )


class BankAmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (VND)"), max_digits=15, decimal_places=0, min_value=Decimal(1000)
    )


class AssignForm(forms.Form):
    username = forms.CharField(label=_("Customer's username"), max_length=150)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
