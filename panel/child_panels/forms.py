from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from accounts.child_panels import domain_validator
from accounts.models import User
from accounts.usernames import username_normalize
from core.money import MONEY_DIGITS, MONEY_PLACES


class ChildPanelOrderForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        help_text=_("Your own domain or subdomain, such as panel.example.com."),
    )
    name = forms.CharField(label=_("Panel name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    admin_username = forms.CharField(
        label=_("Your login on it"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    admin_password = forms.CharField(
        label=_("Its password"), widget=forms.PasswordInput, strip=False
    )

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower().rstrip(".")
        for prefix in ("https://", "http://"):
            domain = domain.removeprefix(prefix)
        domain = domain.split("/", 1)[0]
        domain_validator(domain)
        return domain

    def clean_admin_username(self) -> str:
        return username_normalize(self.cleaned_data["admin_username"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("admin_password")
        if password:
            try:
                password_validation.validate_password(
                    password, User(username=data.get("admin_username", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("admin_password", exc)
        return data


class CustomerCreditForm(forms.Form):
    username = forms.CharField(label=_("Customer's username"), max_length=150)
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
    )
