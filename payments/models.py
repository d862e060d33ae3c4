"""Deposits (one row per payment attempt or received transfer), gateway settings, bonus rules."""

import json
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import memos
from core.money import ZERO, money_field
from core.secrets import decrypt_secret, encrypt_secret
from payments import registry
from payments.banks import bank_choices, bank_for

RATE_DIGITS = 20
RATE_PLACES = 6


class Gateway(models.TextChoices):
    """The built-in gateways' names (and the admin's manual deposits), for code that names one.
    The choices a deposit may take come from the registry (gateway_choices)."""

    SEPAY = "sepay", _("Bank transfer (SePay)")
    CASSO = "casso", _("Bank transfer (Casso)")
    STRIPE = "stripe", _("Card (Stripe)")
    CRYPTOMUS = "cryptomus", _("Crypto (Cryptomus)")
    MANUAL = "manual", _("Manual (admin)")


class Method(models.TextChoices):
    """The built-in methods' names: what a customer chooses on the add-funds page, one settings
    row each. The choices come from the registry (method_choices)."""

    BANK = "bank", _("Bank transfer (VietQR)")
    STRIPE = "stripe", _("Card (Stripe)")
    CRYPTOMUS = "cryptomus", _("Crypto (Cryptomus)")


def method_choices() -> list[tuple[str, str]]:
    """Every method the registered gateways offer: a new gateway needs no migration."""
    return [(method, str(label)) for method, label in registry.method_labels().items()]


def gateway_choices() -> list[tuple[str, str]]:
    """Every registered gateway, and the admin's manual deposits."""
    return [(gateway.gateway, str(gateway.label)) for gateway in registry.REGISTERED] + [
        (Gateway.MANUAL, str(Gateway.MANUAL.label))
    ]


class GatewaySettings(models.Model):
    """An admin's settings for one method. An empty memo prefix falls back to
    PANEL_TRANSFER_PREFIX; credentials are encrypted at rest and never shown again. The bank
    accounts customers transfer to are rows of their own (BankAccount)."""

    method = models.CharField(max_length=16, choices=method_choices, verbose_name=_("method"))
    # Empty: the parent's own settings; a child panel's settings carry its id and are set by its
    # owner on /child-panels/ (docs/child-panels.md#his-customers-pay-him).
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("child panel"),
    )
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))
    currency = models.CharField(
        max_length=3,
        blank=True,
        help_text=_("Currency the gateway charges in (VND for banks)."),
        verbose_name=_("currency"),
    )
    rate = models.DecimalField(
        max_digits=RATE_DIGITS,
        decimal_places=RATE_PLACES,
        null=True,
        blank=True,
        help_text=_("Units of the gateway currency per one unit of the panel currency."),
        verbose_name=_("rate"),
    )
    min_amount = money_field(
        null=True,
        blank=True,
        help_text=_("Smallest deposit, in the gateway currency."),
        verbose_name=_("min amount"),
    )
    max_amount = money_field(
        null=True,
        blank=True,
        help_text=_("Largest deposit, in the gateway currency."),
        verbose_name=_("max amount"),
    )
    transfer_prefix = models.CharField(
        max_length=8,
        blank=True,
        help_text=_("Memo prefix, uppercase letters (e.g. NAP)."),
        verbose_name=_("transfer prefix"),
    )
    secrets_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("secrets encrypted")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("gateway settings")
        verbose_name_plural = _("gateway settings")
        constraints = [
            # One row per method and panel: the parent's rows, and each child panel's.
            models.UniqueConstraint(
                fields=["method"],
                condition=Q(child_panel__isnull=True),
                name="gateway_settings_once",
            ),
            models.UniqueConstraint(
                fields=["child_panel", "method"],
                condition=Q(child_panel__isnull=False),
                name="gateway_settings_once_per_child_panel",
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gt=0), name="gateway_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=F("max_amount")),
                name="gateway_min_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_method_display())

    @property
    def secrets(self) -> dict[str, str]:
        return json.loads(decrypt_secret(self.secrets_encrypted)) if self.secrets_encrypted else {}

    @secrets.setter
    def secrets(self, values: dict[str, str]) -> None:
        self.secrets_encrypted = encrypt_secret(json.dumps(values)) if values else ""


class BankAccount(models.Model):
    """An account customers transfer to, one tab with its own VietQR on the add-funds page. A
    transfer reported into any of them (shown or not) is credited: switching one off hides it
    from customers, while money sent to it from an old screenshot still arrives. None in the
    admin: the PANEL_BANK_* environment variables name the one account (docs/configuration.md)."""

    bank_bin = models.CharField(_("bank"), max_length=6, choices=bank_choices)
    account_number = models.CharField(
        _("account number"),
        max_length=19,
        help_text=_("Letters and digits, as the bank writes it."),
    )
    holder = models.CharField(
        _("account holder"), max_length=64, blank=True, help_text=_("As the bank spells it.")
    )
    is_active = models.BooleanField(
        _("shown to customers"),
        default=True,
        help_text=_("Off: hidden from the add-funds page; transfers into it are still credited."),
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Smaller first: the first tab is the one shown.")
    )
    # Empty: the parent's account; a child panel's owner's account carries its id.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("child panel"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        constraints = [
            # SePay and Casso name the receiving account by its number alone: once per panel.
            models.UniqueConstraint(
                fields=["account_number"],
                condition=Q(child_panel__isnull=True),
                name="bank_account_once",
            ),
            models.UniqueConstraint(
                fields=["child_panel", "account_number"],
                condition=Q(child_panel__isnull=False),
                name="bank_account_once_per_child_panel",
            ),
            models.CheckConstraint(
                condition=Q(bank_bin__regex=r"^[0-9]{6}$"), name="bank_account_bin_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(account_number__regex=r"^[0-9A-Za-z]{1,19}$"),
                name="bank_account_number_alnum",
            ),
        ]

    def __str__(self) -> str:
        bank = bank_for(self.bank_bin)
        return f"{bank.short_name if bank else self.bank_bin} {self.account_number}"


class BonusRule(models.Model):
    """A percent added to deposits of at least `min_amount` (panel currency); the rule with the
    highest threshold that a deposit reaches applies, per gateway or for every gateway."""

    gateway = models.CharField(
        max_length=16,
        choices=gateway_choices,
        blank=True,
        help_text=_("Empty: every gateway except manual deposits."),
        verbose_name=_("gateway"),
    )
    min_amount = money_field(help_text=_("In the panel currency."), verbose_name=_("min amount"))
    percent = models.DecimalField(max_digits=5, decimal_places=2, verbose_name=_("percent"))
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))

    class Meta:
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")
        ordering = ["gateway", "-min_amount"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="bonus_percent_range"
            ),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="bonus_min_not_negative"),
            models.UniqueConstraint(fields=["gateway", "min_amount"], name="bonus_once_per_tier"),
        ]

    def __str__(self) -> str:
        return f"+{self.percent}% from {self.min_amount} ({self.gateway or 'all'})"


class Deposit(models.Model):
    """One payment attempt or received transfer. Unique per (gateway, external id): a replayed
    webhook finds the row instead of paying twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CREDITED = "credited", _("Credited")
        UNMATCHED = "unmatched", _("Unmatched")
        REVIEW = "review", _("Needs review")
        # The customer paid a session or invoice after an admin had rejected its deposit as never
        # paid. Resolved by crediting it (assign) or refusing it (reject, the money returned
        # outside the panel), like a review.
        PAID_LATE = "paid_late", _("Paid after rejection")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deposits",
        verbose_name=_("user"),
    )
    gateway = models.CharField(max_length=16, choices=gateway_choices, verbose_name=_("gateway"))
    # Ours: what the gateway echoes back (Stripe's client_reference_id, Cryptomus' order_id).
    reference = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("reference")
    )
    # Theirs: the transfer id, the Checkout Session or the invoice uuid. Empty until known.
    external_id = models.CharField(max_length=128, blank=True, verbose_name=_("external ID"))
    # Asked: what the customer started the payment for. A bank transfer asks nothing: its amount
    # is what arrived, the same as received_amount.
    amount = money_field(help_text=_("Asked, in the gateway currency."), verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    # Received: what the gateway reports arrived, once it does; "assign" credits this. Empty
    # while nothing has arrived, or when the gateway did not say how much in this currency.
    received_amount = money_field(
        null=True,
        blank=True,
        help_text=_("Received, as the gateway reported it."),
        verbose_name=_("received amount"),
    )
    received_currency = models.CharField(
        max_length=3, blank=True, verbose_name=_("received currency")
    )
    rate = models.DecimalField(
        max_digits=RATE_DIGITS,
        decimal_places=RATE_PLACES,
        help_text=_("Gateway currency per one panel currency unit, frozen when it arrived."),
        verbose_name=_("rate"),
    )
    credited_amount = money_field(default=ZERO, verbose_name=_("credited amount"))
    bonus_amount = money_field(default=ZERO, verbose_name=_("bonus amount"))
    status = models.CharField(
        max_length=16, choices=Status.choices, db_index=True, verbose_name=_("status")
    )
    memo = models.CharField(max_length=255, blank=True, verbose_name=_("memo"))
    # An admin's words as typed, a catalog id the panel marked with gettext_noop, or (the code
    # and its parameters) a sentence with figures: shown through reason_text (core.memos).
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason"))
    reason_code = models.CharField(max_length=48, blank=True, default="", db_default="")
    reason_params = models.JSONField(blank=True, default=dict, db_default={})
    # The customer's coupon (accounts.coupons), redeemed when the deposit is credited; the note
    # says what came of it (its bonus, or why it did not apply: the deposit is credited anyway),
    # as a memo code and its parameters (payments.memos).
    coupon_code = models.CharField(max_length=32, blank=True, verbose_name=_("coupon code"))
    coupon_note = models.CharField(max_length=255, blank=True, verbose_name=_("coupon note"))
    coupon_note_code = models.CharField(max_length=48, blank=True, default="", db_default="")
    coupon_note_params = models.JSONField(blank=True, default=dict, db_default={})
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    credited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("credited at"))
    # A bank transfer as the bank itself names it, whichever service (SePay, Casso) reports it:
    # the receiving account, the bank's transaction reference and its date. With the amount,
    # one key per transfer, so a second reporter finds the first one's row. Empty for
    # card and crypto payments and for reports that lack any of them.
    bank_account = models.CharField(max_length=32, blank=True, verbose_name=_("bank account"))
    bank_reference = models.CharField(max_length=128, blank=True, verbose_name=_("bank reference"))
    bank_date = models.DateField(null=True, blank=True, verbose_name=_("bank date"))
    # Who paid, where the gateway says: the sender's bank account number and holder name (a
    # Casso report; the name as payer_name_normalize spells it), or a card's Stripe fingerprint
    # ("card:<fingerprint>", from its charge). Empty when unknown. The affiliates' self-referral
    # guard compares them (docs/affiliates.md).
    payer_account = models.CharField(max_length=64, blank=True, verbose_name=_("payer account"))
    payer_name = models.CharField(max_length=128, blank=True, verbose_name=_("payer name"))
    # The gateway's id of the payment behind a session (Stripe's PaymentIntent): its charge,
    # refund and dispute events name this, not the session.
    payment_ref = models.CharField(max_length=128, blank=True, verbose_name=_("payment ref"))
    # The panel whose gateway received it: empty for the parent's, a child panel's id for a
    # transfer into its owner's account (its queue is his; the parent's admin sees every one).
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("child panel"),
    )

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="deposit_user_recent"),
            models.Index(
                fields=["gateway", "payment_ref"],
                condition=~Q(payment_ref=""),
                name="deposit_payment_ref",
            ),
            # The affiliates' settle pass reads the deposits credited since its last one.
            models.Index(
                fields=["credited_at"],
                condition=Q(status="credited"),
                name="deposit_credited_recent",
            ),
        ]
        constraints = [
            # Per panel: a child panel's owner has his own SePay and Casso accounts, whose ids
            # are theirs, not the parent's.
            models.UniqueConstraint(
                fields=["child_panel", "gateway", "external_id"],
                condition=~Q(external_id=""),
                nulls_distinct=False,
                name="deposit_once_per_gateway_event",
            ),
            models.UniqueConstraint(
                fields=["child_panel", "bank_account", "bank_reference", "amount", "bank_date"],
                condition=~Q(bank_reference=""),
                nulls_distinct=False,
                name="deposit_once_per_bank_transfer",
            ),
            models.CheckConstraint(
                condition=Q(bank_reference="") | (~Q(bank_account="") & Q(bank_date__isnull=False)),
                name="deposit_bank_key_complete",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="deposit_rate_positive"),
            models.CheckConstraint(
                condition=~Q(status="credited")
                | (Q(user__isnull=False) & Q(credited_amount__gt=0) & Q(credited_at__isnull=False)),
                name="deposit_credited_has_user_and_amount",
            ),
            models.CheckConstraint(
                condition=Q(bonus_amount__gte=0), name="deposit_bonus_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(received_amount__isnull=True)
                | (Q(received_amount__gt=0) & ~Q(received_currency="")),
                name="deposit_received_positive_with_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} {self.amount} {self.currency} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.CREDITED, self.Status.REJECTED)

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language: a memo code (payments.memos), a catalog id the
        panel marked with gettext_noop where it is written, or an admin's words as typed (no
        catalog entry: read as written)."""
        return memos.render(
            self.reason_code,
            self.reason_params,
            fallback=gettext(self.reason) if self.reason else "",
        )

    @property
    def coupon_note_text(self) -> str:
        return memos.render(
            self.coupon_note_code, self.coupon_note_params, fallback=self.coupon_note
        )

    @property
    def arrived_amount(self) -> Decimal | None:
        """What arrived, in the deposit's own currency (the one its rate converts); None when
        nothing is known to have arrived, or only in another currency."""
        if self.received_amount is None or self.received_currency.upper() != self.currency.upper():
            return None
        return self.received_amount


class DepositReversal(models.Model):
    """A credited deposit taken back after the fact: refunded to the payer, or charged back by
    their card's bank. One per deposit (the first report counts; a replay or a later partial
    refund finds it). It moves no balance by itself: the affiliates' settle pass reads it and
    reverses the deposit's referral commission (docs/affiliates.md)."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refunded")
        CHARGEBACK = "chargeback", _("Charged back")

    deposit = models.OneToOneField(
        Deposit, on_delete=models.PROTECT, related_name="reversal", verbose_name=_("deposit")
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    # The gateway's event (a Stripe refund or dispute id); empty when an admin recorded it.
    external_id = models.CharField(max_length=128, blank=True, verbose_name=_("external ID"))
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("refund or chargeback")
        verbose_name_plural = _("refunds and chargebacks")

    def __str__(self) -> str:
        return gettext("%(kind)s of deposit %(deposit)s") % {
            "kind": self.get_kind_display(),
            "deposit": self.deposit_id,
        }


class UnmatchedDeposit(Deposit):
    """The admin's queue: transfers that matched nobody and deposits that need a decision."""

    class Meta:
        proxy = True
        verbose_name = _("unmatched or review deposit")
        verbose_name_plural = _("unmatched and review queue")


class TransferReport(models.Model):
    """A bank transfer reported again by another service (Casso after SePay, or the reverse):
    kept against the deposit the first report made, which is credited once. Unique per
    (gateway, the reporter's id), so a replayed second report is recorded once."""

    deposit = models.ForeignKey(
        Deposit, on_delete=models.CASCADE, related_name="reports", verbose_name=_("deposit")
    )
    gateway = models.CharField(max_length=16, choices=Gateway.choices, verbose_name=_("gateway"))
    external_id = models.CharField(max_length=128, verbose_name=_("external ID"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("second report of a transfer")
        verbose_name_plural = _("second reports of transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "external_id"], name="transfer_report_once_per_gateway_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.external_id} -> deposit {self.deposit_id}"


class BankCoupon(models.Model):
    """The coupon a customer chose for their next bank transfer. A transfer's memo is fixed per
    customer (payments.memo) and arrives without anything else we can trust, so the choice is
    kept here and taken (deleted) by the first transfer credited to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="bank_coupon",
        verbose_name=_("user"),
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    chosen_at = models.DateTimeField(auto_now=True, verbose_name=_("chosen at"))

    class Meta:
        verbose_name = _("bank coupon")
        verbose_name_plural = _("bank coupons")

    def __str__(self) -> str:
        return f"{self.code} for {self.user_id}"
