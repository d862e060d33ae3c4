from decimal import Decimal
from typing import Any

from django import forms

from core.money import MONEY_DIGITS, MONEY_PLACES


class BalanceAdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text="Positive adds funds, negative removes them.",
    )
    kind = forms.ChoiceField(
        choices=[("deposit", "Deposit (customer paid)"), ("adjustment", "Adjustment (correction)")],
        initial="deposit",
    )
    memo = forms.CharField(
        max_length=255, help_text="Why: shown in the customer's balance history."
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        amount = data.get("amount")
        if amount is not None and amount == Decimal(0):
            self.add_error("amount", "The amount must not be zero.")
        if amount is not None and amount < 0 and data.get("kind") == "deposit":
            self.add_error("kind", "A deposit adds funds; use an adjustment to remove them.")
        return data
