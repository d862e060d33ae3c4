from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import MONEY_DIGITS, MONEY_PLACES
from payments.models import DepositReversal


def coupon_field() -> forms.CharField:
    return forms.CharField(label=_("Coupon code"), max_length=32, required=False, strip=True)


class AmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal("0.01"),
    )
    coupon = coupon_field()


class BankAmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (VND)"), max_digits=15, decimal_places=0, min_value=Decimal(1000)
    )


class BankCouponForm(BankAmountForm):
    """The coupon for the customer's next bank transfer; empty removes the one chosen."""

    coupon = coupon_field()


class AssignForm(forms.Form):
    username = forms.CharField(label=_("Customer's username"), max_length=150)
    credited_amount = forms.DecimalField(
        label=_("Amount to credit"),
        required=False,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal("0.000001"),
        help_text=_("Empty: what arrived. Another amount needs a reason."),
    )
    reason = forms.CharField(
        label=_("Reason for another amount"),
        max_length=150,
        required=False,
        help_text=_("Written on the customer's ledger line."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ReversalForm(RejectForm):
    kind = forms.ChoiceField(label=_("What happened"), choices=DepositReversal.Kind.choices)
