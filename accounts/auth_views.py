"""Sign-up, email confirmation, the throttled two-step login and two-factor enrolment."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import (
    LoginView,
    LogoutView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import signup, two_factor
from accounts.forms import (
    CodeForm,
    PanelPasswordChangeForm,
    PanelPasswordResetForm,
    PanelSetPasswordForm,
    SignUpForm,
    ThrottledLoginForm,
)
from accounts.http import AuthenticatedRequest
from accounts.login_throttle import attempt_begin, attempt_succeeded, reset_mail_allowed
from accounts.models import TwoFactorDevice, User
from core.errors import InvalidRequest, PanelError
from core.secrets import decrypt_secret
from core.tenancy import current_panel_id

PENDING_LOGIN = "accounts.pending_login"
# The one backend (settings.AUTHENTICATION_BACKENDS): it holds a session to its panel.
MODEL_BACKEND = "accounts.backends.PanelModelBackend"


class PanelLoginView(LoginView):
    """The password step. A user with two-factor on is not logged in yet: the code step is."""

    form_class = ThrottledLoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if two_factor.has_two_factor(user):
            self.request.session[PENDING_LOGIN] = {
                "user_id": user.pk,
                "backend": getattr(user, "backend", MODEL_BACKEND),
                "next": self.get_success_url(),
            }
            return redirect("login_verify")
        return super().form_valid(form)


class PanelLogoutView(LogoutView):
    """Django's logout (POST only), saying so on the page it lands on."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, _("You have logged out."))
        return response


class PanelPasswordResetView(PasswordResetView):
    """Reset mails throttled per address asked for and per client address. Every request is
    answered alike ("sent"), whether the address has an account, is past a limit, or neither:
    the page tells nothing about which addresses exist."""

    form_class = PanelPasswordResetForm
    # The panel's own mail (Django's default is the admin's, in Django's Vietnamese).
    subject_template_name = "accounts/email/password_reset_subject.txt"
    email_template_name = "accounts/email/password_reset_body.txt"

    def form_valid(self, form: PanelPasswordResetForm) -> HttpResponse:  # type: ignore[override]
        if reset_mail_allowed(self.request, form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class PanelPasswordResetConfirmView(PasswordResetConfirmView):
    form_class = PanelSetPasswordForm

    def get_user(self, uidb64: str) -> User | None:
        # A reset link opens only on the panel its account belongs to.
        user = super().get_user(uidb64)
        if user is None or user.child_panel_id != current_panel_id():
            return None
        return user


class PanelPasswordChangeView(PasswordChangeView):
    form_class = PanelPasswordChangeForm
    template_name = "accounts/password_change.html"


@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    pending: dict[str, Any] = request.session.get(PENDING_LOGIN) or {}
    user = (
        User.objects.in_current_panel().filter(pk=pending.get("user_id", 0), is_active=True).first()
    )
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not attempt_begin(request, user.username):
            form.add_error(None, _("Too many failed attempts. Try again later."))
        elif two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"]):
            attempt_succeeded(request, user.username)
            del request.session[PENDING_LOGIN]
            login(request, user, backend=pending["backend"])
            target = pending.get("next") or settings.LOGIN_REDIRECT_URL
            safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
            return HttpResponseRedirect(target if safe else reverse("dashboard"))
        else:
            form.add_error("code", _("That code is not valid."))
    return render(request, "registration/login_verify.html", {"form": form})


SignedUp = Callable[[HttpRequest, User], None]


@never_cache
def sign_up(request: HttpRequest, after_sign_up: SignedUp | None = None) -> HttpResponse:
    """The sign-up form. `after_sign_up` is what a higher app records about a new account in the
    same transaction (the affiliates' referral: panel/urls.py passes it), so accounts needs to
    know nothing above it."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = signup.user_sign_up(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                phone=form.cleaned_data["phone"],
            )
        except PanelError as exc:
            form.add_error(None, exc.message)
        else:
            if after_sign_up is not None:
                after_sign_up(request, user)
            if user.is_active:
                login(request, user, backend=MODEL_BACKEND)
                messages.success(request, _("Welcome! Your account is ready."))
                return redirect("dashboard")
            uidb64, token = signup.confirmation_path_parts(user)
            url = request.build_absolute_uri(reverse("signup_confirm", args=[uidb64, token]))
            signup.send_confirmation(user=user, confirm_url=url)
            return render(request, "registration/signup_done.html", {"email": user.email})
    return render(request, "registration/signup.html", {"form": form})


def signup_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        signup.user_confirm_email(uidb64=uidb64, token=token)
    except PanelError as exc:
        return render(
            request, "registration/signup_invalid.html", {"error": exc.message}, status=400
        )
    # No login: whoever opens the mail owns the address, not necessarily the password.
    messages.success(request, _("Your email is confirmed. Log in with your username and password."))
    return redirect("login")


def _pending_secret(user: User) -> str:
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return (
        decrypt_secret(device.secret_encrypted)
        if device
        else two_factor.two_factor_begin(user=user)
    )


@never_cache
@login_required
def two_factor_settings(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = CodeForm(request.POST or None)
    is_on = two_factor.has_two_factor(user)
    if request.method == "POST" and form.is_valid():
        try:
            if is_on:
                # Throttled like the login's code step: a session alone must not be enough to
                # guess its way to switching the second factor off.
                if not attempt_begin(request, user.username):
                    raise InvalidRequest(_("Too many failed attempts. Try again later."))
                two_factor.two_factor_disable(user=user, code=form.cleaned_data["code"])
                attempt_succeeded(request, user.username)
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("two_factor")
            codes = two_factor.two_factor_confirm(user=user, code=form.cleaned_data["code"])
            return render(
                request, "accounts/two_factor.html", {"recovery_codes": codes, "is_on": True}
            )
        except PanelError as exc:
            form.add_error("code", exc.message)
    context: dict = {
        "form": form,
        "is_on": is_on,
        "required": user.is_staff and settings.PANEL_STAFF_2FA,
    }
    if not is_on:
        secret = _pending_secret(user)
        context.update(
            secret=secret, qr_svg=two_factor.provisioning_qr_svg(user=user, secret=secret)
        )
    return render(request, "accounts/two_factor.html", context)
