from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

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

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="user_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="user_discount_percent_range",
            ),
        ]


class BalanceTransaction(models.Model):
    """One money movement. The sum of a user's rows is their balance, always."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger"
    )
    amount = money_field()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    balance_after = money_field()
    # Plain ids, not foreign keys: the ledger sits below the orders app and outlives any row.
    order_id = models.BigIntegerField(null=True, blank=True)
    product_order_id = models.BigIntegerField(null=True, blank=True)
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
