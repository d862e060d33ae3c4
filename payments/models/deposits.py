"""Deposits (one row per payment attempt or received transfer), their reversals, the admin's
queue of unmatched ones and second reports of a transfer."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import memos
from core.money import ZERO, money_field, money_shown
from payments.models.gateways import RATE_DIGITS, RATE_PLACES, Gateway, gateway_choices


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

        @classmethod
        def finals(cls) -> frozenset[str]:
            """The statuses a deposit never leaves by itself: every other one may still be
            credited (by its gateway's report, or by an admin's decision)."""
            return frozenset({cls.CREDITED, cls.REJECTED})

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
        verbose_name=_("exchange rate"),
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
        amount = money_shown(self.amount, currency=self.currency)
        return f"{self.get_gateway_display()} {amount} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in self.Status.finals()

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
        values = {
            "gateway": self.get_gateway_display(),
            "id": self.external_id,
            "deposit": self.deposit_id,
        }
        return gettext("%(gateway)s %(id)s, reported again for deposit #%(deposit)s") % values
