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
from panel.child_panels.logo import MAX_BYTES
from panel.child_panels.services import child_panel_currencies
from payments.banks import bank_choices


class ChildPanelOrderForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        help_text=_("Your own domain or subdomain, such as panel.example.com."),
    )
    name = forms.CharField(label=_("Panel name"), max_length=100)
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=lambda: [(code, code) for code in child_panel_currencies()],
        # Left out (an older form, a script): this panel's own.
        required=False,
        help_text=_(
            "What its customers pay in, fixed once it is made. You pay this panel in its own."
        ),
    )
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


class PaymentSettingsForm(forms.Form):
    """The owner's bank account and reporters' keys. Keys are write-only: left empty, the
    stored one stays; they are shown masked, never again in full."""

    bank_bin = forms.ChoiceField(label=_("Bank"), choices=bank_choices)
    account_number = forms.RegexField(
        label=_("Account number"),
        regex=r"^[0-9A-Za-z]{1,19}$",
        max_length=19,
        help_text=_("Letters and digits, as the bank writes it."),
    )
    holder = forms.CharField(label=_("Account holder"), max_length=64, required=False)
    transfer_prefix = forms.RegexField(
        label=_("Transfer prefix"),
        regex=r"^[A-Za-z]{2,8}$",
        max_length=8,
        help_text=_("Memo prefix, uppercase letters (e.g. NAP)."),
    )
    sepay_api_key = forms.CharField(
        label=_("SePay API key"), required=False, max_length=200, widget=forms.PasswordInput
    )
    casso_checksum_key = forms.CharField(
        label=_("Casso checksum key"), required=False, max_length=200, widget=forms.PasswordInput
    )

    def clean_transfer_prefix(self) -> str:
        return str(self.cleaned_data["transfer_prefix"]).upper()

    def clean_holder(self) -> str:
        return " ".join(str(self.cleaned_data["holder"]).split()).upper()


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Logo"),
        help_text=_("PNG or JPEG, at most 200 KB, 16 to 1024 pixels wide and high."),
    )

    def clean_logo(self) -> bytes:
        upload = self.cleaned_data["logo"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The logo must be at most 200 KB."))
        return bytes(upload.read())


class DepositAssignForm(forms.Form):
    deposit = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    username = forms.CharField(label=_("Customer's username"), max_length=150)
