import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.login_throttle import attempt_begin, attempt_succeeded
from accounts.models import User
from accounts.selectors import login_name, username_taken
from accounts.signup import signup_claim_by_reset
from accounts.usernames import username_normalize
from core.money import MONEY_DIGITS, MONEY_PLACES
from core.phones import NotAPhoneNumber, vn_mobile_normalize


class BalanceAdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        help_text=_("Positive adds funds, negative removes them."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("deposit", _("Deposit (customer paid)")),
            ("adjustment", _("Adjustment (correction)")),
        ],
        initial="deposit",
    )
    memo = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Why: shown in the customer's transaction history."),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        amount = data.get("amount")
        if amount is not None and amount == Decimal(0):
            self.add_error("amount", _("The amount must not be zero."))
        if amount is not None and amount < 0 and data.get("kind") == "deposit":
            self.add_error("kind", _("A deposit adds funds; use an adjustment to remove them."))
        return data


def phone_clean(text: str) -> str:
    """A typed phone/Zalo number in its stored form ("" for none); +84 and spaces are fine."""
    if not text.strip():
        return ""
    try:
        return vn_mobile_normalize(text)
    except NotAPhoneNumber:
        raise forms.ValidationError(
            _("Enter a Vietnamese mobile number, e.g. 0912345678."), code="phone"
        ) from None


class SignUpForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    # Its own catalog entry: it overrides Django's weaker Vietnamese wherever the message shows.
    email = forms.EmailField(
        label=_("Email"), error_messages={"invalid": _("Enter a valid email address.")}
    )
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)
    phone = forms.CharField(
        label=_("Phone / Zalo (optional)"),
        required=False,
        max_length=20,
        help_text=_("A Vietnamese mobile number, so support can reach you on Zalo if needed."),
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "0912 345 678",
            }
        ),
    )

    field_order = ("username", "email", "phone", "password1", "password2")

    def clean_phone(self) -> str:
        return phone_clean(self.cleaned_data["phone"])

    def clean_username(self) -> str:
        # The spelling the account will have, checked as the login will look it up: "ＡＬＩＣＥ"
        # is alice's name, and says so here instead of failing at the database.
        username = username_normalize(self.cleaned_data["username"])
        UnicodeUsernameValidator()(username)
        if username_taken(username):
            raise forms.ValidationError(_("This username is taken."), code="taken")
        return username

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
    """Django's login form behind attempt counters per address and per username: an attempt is
    counted before its password is checked (accounts.login_throttle)."""

    # Names log in whatever their case (accounts.usernames); only the password is case-sensitive.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter a correct username or email and password. The password is case-sensitive."
        ),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username or email")

    def clean(self) -> dict[str, Any]:
        username = login_name(str(self.data.get("username", "") or ""))
        if "username" in self.cleaned_data:
            self.cleaned_data["username"] = username
        # LoginView always hands the form its request.
        request = cast(HttpRequest, self.request)
        if not attempt_begin(request, username):
            raise forms.ValidationError(
                _("Too many failed attempts. Try again in %(minutes)s minutes."),
                code="throttled",
                params={"minutes": settings.PANEL_LOGIN_LOCKOUT_MINUTES},
            )
        data = super().clean()
        attempt_succeeded(request, username)
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class PanelPasswordResetForm(PasswordResetForm):
    """Django's reset form, also reaching unconfirmed sign-ups: the reset mail proves the
    address, and the owner of an address someone signed up with must be able to claim it."""

    def get_users(self, email: str) -> Iterator[User]:
        candidates = (
            User.objects.in_current_panel()
            .filter(email__iexact=email)
            .filter(Q(is_active=True) | Q(awaiting_confirmation=True))
        )
        # As Django's form: the stored address must match without case tricks (ß, ı).
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return (
            user
            for user in candidates
            if user.has_usable_password()
            and unicodedata.normalize("NFKC", user.email).casefold() == wanted
        )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """The mail in the account's language (not the language of whoever asked for it), from
        and with the name of the account's own panel, and how long the link works."""
        user = cast(User, context["user"])
        context = {
            **context,
            "panel_name": user.panel_name,
            "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        with translation.override(user.preferred_language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                user.mail_from,
                to_email,
                html_email_template_name,
            )


def _panel_password_words(form: SetPasswordForm) -> None:
    """The new-password fields in the panel's words: Django's labels and mismatch message read
    stiffly in Vietnamese ("Xác nhận mật khẩu mới", "Hai trường mật khẩu không giống nhau")."""
    form.fields["new_password1"].label = _("New password")
    form.fields["new_password2"].label = _("New password again")
    form.fields["new_password2"].help_text = ""


class PanelSetPasswordForm(SetPasswordForm):
    """The reset's new password; an unconfirmed account becomes the address owner's."""

    error_messages = {
        **SetPasswordForm.error_messages,
        "password_mismatch": _("The two passwords differ."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _panel_password_words(self)

    def save(self, commit: bool = True) -> User:
        user = cast(User, super().save(commit=commit))
        if commit:
            signup_claim_by_reset(user=user)
        return user


class PanelPasswordChangeForm(PasswordChangeForm):
    """Django's password change, in the panel's words."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_mismatch": _("The two passwords differ."),
        "password_incorrect": _("Your current password is not right. Enter it again."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        _panel_password_words(self)


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone / Zalo"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "0912 345 678",
            }
        ),
    )

    def clean_phone(self) -> str:
        return phone_clean(self.cleaned_data["phone"])
