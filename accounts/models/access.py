"""What opens an account besides its password: API keys, two-factor devices and their recovery
codes (secrets kept as digests or encrypted)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A reseller's key, stored as a lookup prefix and an HMAC; the key itself is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("user"),
    )
    prefix = models.CharField(max_length=16, unique=True, verbose_name=_("prefix"))
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    # Set on the key a child panel buys from this panel with, as its owner: the owner's own
    # key may be renewed without cutting his panel off, and deleting the panel revokes it.
    for_child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="link_keys",
        verbose_name=_("for child panel"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TwoFactorDevice(models.Model):
    """A TOTP secret (encrypted at rest). Unconfirmed until the user types a first code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="two_factor",
        verbose_name=_("user"),
    )
    secret_encrypted = models.TextField(verbose_name=_("secret encrypted"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    # The last time step accepted: a code seen once is refused after, even inside its window.
    last_used_step = models.BigIntegerField(default=0, verbose_name=_("last used step"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return gettext("Two-factor device of user #%(user)s") % {"user": self.user_id}

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-use code for a lost phone, stored as a digest like API keys."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
        verbose_name=_("user"),
    )
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="recovery_code_once_per_user")
        ]

    def __str__(self) -> str:
        return gettext("Recovery code of user #%(user)s") % {"user": self.user_id}
