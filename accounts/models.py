from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field


class User(AbstractUser):
    # A cache of the ledger: changed only by accounts.services.balance_credit/balance_debit.
    balance = money_field(default=ZERO, editable=False)
    currency = models.CharField(max_length=3, default=settings.PANEL_CURRENCY, editable=False)
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        help_text="Taken off every service and product price this user pays, 0–100.",
    )
    # The language the user chose with the switcher; empty until they choose (PANEL_LANGUAGE).
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="user_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="user_discount_percent_range",
            ),
        ]

    @property
    def preferred_language(self) -> str:
        """The language pages and emails to this user are written in."""
        return self.language or settings.LANGUAGE_CODE


class BalanceTransaction(models.Model):
    """One money movement. The sum of a user's rows is their balance, always."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Adjustment")
        BONUS = "bonus", _("Bonus")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger"
    )
    amount = money_field()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    balance_after = money_field()
    # Plain ids, not foreign keys: the ledger sits below the orders app and outlives any row.
    order_id = models.BigIntegerField(null=True, blank=True)
    product_order_id = models.BigIntegerField(null=True, blank=True)
    deposit_id = models.BigIntegerField(null=True, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The admin who made a manual deposit or adjustment.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="ledger_user_recent")]
        constraints = [
            # Replays of the same charge or refund hit these instead of moving money twice.
            models.UniqueConstraint(
                fields=["order_id", "kind"],
                condition=Q(order_id__isnull=False),
                name="ledger_once_per_order_and_kind",
            ),
            models.UniqueConstraint(
                fields=["product_order_id", "kind"],
                condition=Q(product_order_id__isnull=False),
                name="ledger_once_per_product_order_and_kind",
            ),
            # A deposit credits once and pays its bonus once, however often its webhook comes.
            models.UniqueConstraint(
                fields=["deposit_id", "kind"],
                condition=Q(deposit_id__isnull=False),
                name="ledger_once_per_deposit_and_kind",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} for {self.user_id}"


class ApiKey(models.Model):
    """A reseller's key, stored as a lookup prefix and an HMAC; the key itself is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class FormSubmission(models.Model):
    """A one-time form token, used: a second POST of the same form finds this row and acts no
    more (see accounts.form_tokens). The row is written in the same transaction as what the
    form did, so a failed submit leaves the token free to send again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="form_submissions"
    )
    token = models.CharField(max_length=64)
    result_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="form_submission_once")
        ]

    def __str__(self) -> str:
        return f"form {self.token[:8]}… of {self.user_id}"


class TwoFactorDevice(models.Model):
    """A TOTP secret (encrypted at rest). Unconfirmed until the user types a first code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor"
    )
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code seen once is refused after, even inside its window.
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"TOTP of {self.user_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-use code for a lost phone, stored as a digest like API keys."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="recovery_code_once_per_user")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"
