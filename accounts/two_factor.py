"""Optional TOTP two-factor (required for staff when PANEL_STAFF_2FA is on): enrol with a QR,
confirm with a first code, ten one-use recovery codes shown once."""

import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import RecoveryCode, TwoFactorDevice, User
from core.errors import InvalidRequest
from core.secrets import decrypt_secret, encrypt_secret

RECOVERY_CODES = 10
_RECOVERY_SALT = "accounts.recovery_code"
STEP_SECONDS = 30


def _recovery_digest(code: str) -> str:
    normalized = code.strip().replace("-", "").replace(" ", "").lower()
    return salted_hmac(_RECOVERY_SALT, normalized, algorithm="sha256").hexdigest()


def has_two_factor(user: User) -> bool:
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def lacks_required_two_factor(user: User) -> bool:
    """A staff user without two-factor, while PANEL_STAFF_2FA requires it: kept out of the admin,
    given no staff API key, and their keys refused (docs/admin-api.md), for a key acts as them."""
    return bool(settings.PANEL_STAFF_2FA and user.is_staff and not has_two_factor(user))


def two_factor_begin(*, user: User) -> str:
    """A fresh unconfirmed secret (replacing an unconfirmed one); returns the secret."""
    if has_two_factor(user):
        raise InvalidRequest(_("Two-factor authentication is already on"))
    secret = pyotp.random_base32()
    TwoFactorDevice.objects.update_or_create(
        user=user, defaults={"secret_encrypted": encrypt_secret(secret), "last_used_step": 0}
    )
    return secret


def provisioning_qr_svg(*, user: User, secret: str) -> str:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.PANEL_NAME)
    return segno.make(uri, error="m").svg_inline(scale=4, border=2)


def _accept_totp(device: TwoFactorDevice, code: str) -> bool:
    """True when `code` is valid now (±1 step) and newer than the last accepted one."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(decrypt_secret(device.secret_encrypted))
    now_step = int(time.time()) // STEP_SECONDS
    for step in (now_step - 1, now_step, now_step + 1):
        if step > device.last_used_step and secrets.compare_digest(
            totp.at(step * STEP_SECONDS), code
        ):
            # Conditional: two logins racing with one code cannot both win.
            return (
                TwoFactorDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
                    last_used_step=step
                )
                == 1
            )
    return False


def two_factor_confirm(*, user: User, code: str) -> list[str]:
    """Turn two-factor on with a first code; returns the recovery codes (shown once)."""
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None or not _accept_totp(device, code):
        raise InvalidRequest(_("That code is not valid. Check your phone's clock and try again."))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        TwoFactorDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=_recovery_digest(code)) for code in codes
        )
    return codes


def two_factor_verify(*, user: User, code: str) -> bool:
    """A login's second step: a current TOTP code, or an unused recovery code (spent now)."""
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    if _accept_totp(device, code):
        return True
    return (
        RecoveryCode.objects.filter(
            user=user, digest=_recovery_digest(code), used_at__isnull=True
        ).update(used_at=timezone.now())
        == 1
    )


def two_factor_disable(*, user: User, code: str) -> None:
    if not two_factor_verify(user=user, code=code):
        raise InvalidRequest(_("That code is not valid."))
    with transaction.atomic():
        TwoFactorDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
