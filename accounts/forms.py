from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from accounts.login_throttle import is_locked, record_failure
from accounts.models import User
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

    def clean(self) -> dict:
        data = super().clean()
        amount = data.get("amount")
        if amount is not None and amount == Decimal(0):
            self.add_error("amount", "The amount must not be zero.")
        if amount is not None and amount < 0 and data.get("kind") == "deposit":
            self.add_error("kind", "A deposit adds funds; use an adjustment to remove them.")
        return data


class SignUpForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form behind failure counters per address and per username."""

    def clean(self) -> dict:
        username = self.data.get("username", "") or ""
        if is_locked(self.request, username):
            raise forms.ValidationError(
                _("Too many failed attempts. Try again in %(minutes)s minutes."),
                code="throttled",
                params={"minutes": settings.PANEL_LOGIN_LOCKOUT_MINUTES},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            record_failure(self.request, username)
            raise


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )
