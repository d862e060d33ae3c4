"""Self sign-up with an emailed confirmation link, when PANEL_REQUIRE_EMAIL_CONFIRMATION is on."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import InvalidRequest


class ConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password-reset token, with `is_active` in the hash: a link works once."""

    key_salt = "accounts.signup.ConfirmationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


confirmation_tokens = ConfirmationTokenGenerator()


def user_sign_up(*, username: str, email: str, password: str) -> User:
    """A customer account; inactive until confirmed when PANEL_REQUIRE_EMAIL_CONFIRMATION is on."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidRequest(_("This username is taken."))
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidRequest(_("An account with this email exists. Log in or reset your password."))
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            is_active=not settings.PANEL_REQUIRE_EMAIL_CONFIRMATION,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
    return user


def confirmation_path_parts(user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), confirmation_tokens.make_token(user)


def send_confirmation(*, user: User, confirm_url: str) -> None:
    context = {"user": user, "confirm_url": confirm_url, "panel_name": settings.PANEL_NAME}
    subject = render_to_string("accounts/email/confirm_subject.txt", context).strip()
    body = render_to_string("accounts/email/confirm_body.txt", context)
    # After commit: a rolled-back sign-up sends nothing.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    )


def user_confirm_email(*, uidb64: str, token: str) -> User:
    """Activate the account the link names; raises InvalidRequest for a bad or used link."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, User.DoesNotExist, UnicodeDecodeError) as exc:
        raise InvalidRequest(_("This confirmation link is not valid.")) from exc
    if user.is_active or not confirmation_tokens.check_token(user, token):
        raise InvalidRequest(_("This confirmation link is not valid or was already used."))
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    return user
