"""Self sign-up with an emailed confirmation link, when PANEL_REQUIRE_EMAIL_CONFIRMATION is on.

An unconfirmed sign-up holds its name and address for PANEL_SIGNUP_CONFIRM_HOURS only: then it
is deleted (beat, and the sign-up path for the address it is asked for), so nobody can squat
on someone else's address. Opening the link activates the account and logs nobody in: the
person who owns the address is not necessarily the person who chose the password."""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import RecoveryCode, TwoFactorDevice, User
from accounts.selectors import signup_expiry_cutoff, signups_expired, username_taken
from accounts.services import api_key_revoke
from accounts.usernames import username_normalize
from core.errors import InvalidRequest
from core.tenancy import current_panel_id

logger = logging.getLogger(__name__)


class ConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password-reset token, with `is_active` in the hash: a link works once."""

    key_salt = "accounts.signup.ConfirmationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


confirmation_tokens = ConfirmationTokenGenerator()


def signups_expire(*, email: str = "", username: str = "", now: datetime | None = None) -> int:
    """Delete unconfirmed sign-ups older than PANEL_SIGNUP_CONFIRM_HOURS (only those holding
    `email` or `username` when given); returns how many went."""
    stale = signups_expired(now=now)
    if email or username:
        holds = Q(email__iexact=email, child_panel_id=current_panel_id()) if email else Q(pk__in=[])
        if username:
            holds |= Q(pk__in=User.objects.with_username(username).values("pk"))
        stale = stale.filter(holds)
    deleted = 0
    for user in stale.only("pk"):
        try:
            # One savepoint each: a row something protects stays, the others still go.
            with transaction.atomic():
                user.delete()
        except (ProtectedError, RestrictedError):
            logger.warning("unconfirmed sign-up %s is referenced; kept", user.pk)
        else:
            deleted += 1
    return deleted


def user_sign_up(*, username: str, email: str, password: str, phone: str = "") -> User:
    """A customer account; inactive until confirmed when PANEL_REQUIRE_EMAIL_CONFIRMATION is on."""
    username = username_normalize(username)
    signups_expire(email=email, username=username)
    if username_taken(username):
        raise InvalidRequest(_("This username is taken."))
    if User.objects.in_current_panel().filter(email__iexact=email).exists():
        raise InvalidRequest(_("An account with this email exists. Log in or reset your password."))
    confirm = settings.PANEL_REQUIRE_EMAIL_CONFIRMATION
    try:
        with transaction.atomic():
            user = User(
                username=username,
                email=email,
                phone=phone,
                child_panel_id=current_panel_id(),
                is_active=not confirm,
                awaiting_confirmation=confirm,
            )
            user.set_password(password)
            user.full_clean(exclude=["password"])
            user.save()
    except ValidationError as exc:
        raise InvalidRequest(exc.messages[0]) from exc
    except IntegrityError as exc:
        # Lost a race for the name with a concurrent sign-up: the unique index decided.
        raise InvalidRequest(_("This username is taken.")) from exc
    return user


def confirmation_path_parts(user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), confirmation_tokens.make_token(user)


def send_confirmation(*, user: User, confirm_url: str) -> None:
    context = {
        "user": user,
        "confirm_url": confirm_url,
        "panel_name": user.panel_name,
        "hours": settings.PANEL_SIGNUP_CONFIRM_HOURS,
    }
    subject = render_to_string("accounts/email/confirm_subject.txt", context).strip()
    body = render_to_string("accounts/email/confirm_body.txt", context)
    # After commit: a rolled-back sign-up sends nothing.
    transaction.on_commit(lambda: send_mail(subject, body, user.mail_from, [user.email]))


def user_confirm_email(*, uidb64: str, token: str) -> User:
    """Activate the account the link names; raises InvalidRequest for a bad, used or expired
    link. Logs nobody in (the caller must not either)."""
    try:
        user = User.objects.in_current_panel().get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, User.DoesNotExist, UnicodeDecodeError) as exc:
        raise InvalidRequest(_("This confirmation link is not valid.")) from exc
    if user.is_active or not confirmation_tokens.check_token(user, token):
        raise InvalidRequest(_("This confirmation link is not valid or was already used."))
    # Conditional: a sign-up past its hours is about to be deleted, and its address may be
    # someone else's by now.
    activated = User.objects.filter(
        pk=user.pk,
        is_active=False,
        awaiting_confirmation=True,
        date_joined__gte=signup_expiry_cutoff(),
    ).update(is_active=True, awaiting_confirmation=False)
    if activated != 1:
        raise InvalidRequest(_("This confirmation link has expired. Please sign up again."))
    user.is_active, user.awaiting_confirmation = True, False
    return user


def _end_sessions(user: User) -> int:
    """Delete the database sessions logged in as `user`. Sessions hold the user id only in
    their encoded data, so this reads them all; it runs for the rare reset below only."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def signup_claim_by_reset(*, user: User) -> bool:
    """After a password reset: the reset mail proved the address, so an unconfirmed account is
    now its owner's. Whatever was set up by whoever chose the first password goes: sessions,
    API keys, two-factor. Returns True when the account was unconfirmed."""
    with transaction.atomic():
        claimed = User.objects.filter(pk=user.pk, awaiting_confirmation=True).update(
            is_active=True, awaiting_confirmation=False
        )
        if not claimed:
            return False
        api_key_revoke(user=user)
        TwoFactorDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        _end_sessions(user)
    user.is_active, user.awaiting_confirmation = True, False
    return True
