"""Referrals, their commissions and payouts (docs/affiliates.md). The money itself is the
commission ledger in accounts (CommissionTransaction); these rows say why each line exists."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import money_field, money_shown


class Affiliate(models.Model):
    """A customer's referral link (created the first time they open the Affiliates page or their
    link is followed) and the admin's percent for them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="affiliate",
        verbose_name=_("user"),
    )
    # Random, never derived from the user: a link reveals nothing and cannot be guessed.
    code = models.CharField(max_length=16, unique=True, editable=False, verbose_name=_("code"))
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("This affiliate's commission percent; empty: the rank's or the global one."),
        verbose_name=_("percent"),
    )
    # Browsers that followed the link for the first time (the cookie was set): a reload or a
    # second click from the same browser does not count again.
    visits = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("visits"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("affiliate")
        verbose_name_plural = _("affiliates")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | (Q(percent__gte=0) & Q(percent__lte=100)),
                name="affiliate_percent_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.user_id})"


class Referral(models.Model):
    """Who referred a customer: recorded at sign-up, permanent; only an admin changes it (with a
    reason, ReferralChange). A referral the guards suspect is flagged: its commissions wait for
    an admin (cleared: paid as usual; refused: never paid)."""

    class Review(models.TextChoices):
        NONE = "none", _("Not flagged")
        FLAGGED = "flagged", _("Flagged, waiting for an admin")
        CLEARED = "cleared", _("Cleared by an admin")
        REFUSED = "refused", _("Refused: same person")

    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="referral",
        verbose_name=_("referred"),
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("referrer"),
    )
    review = models.CharField(
        max_length=16,
        choices=Review.choices,
        default=Review.NONE,
        db_index=True,
        verbose_name=_("review"),
    )
    review_reason = models.CharField(max_length=255, blank=True, verbose_name=_("review reason"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-id"]
        indexes = [models.Index(fields=["referrer", "-id"], name="referral_referrer_recent")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(referrer=models.F("referred")), name="referral_not_self"
            )
        ]

    def __str__(self) -> str:
        return gettext("%(referred)s referred by %(referrer)s") % {
            "referred": self.referred_id,
            "referrer": self.referrer_id,
        }

    @property
    def is_held(self) -> bool:
        return self.review in (self.Review.FLAGGED, self.Review.REFUSED)


class ReferralFlag(models.Model):
    """One piece of evidence that referrer and referred are the same person, as codes and
    values (worded in the reader's language by the admin)."""

    class Reason(models.TextChoices):
        SAME_PAYER_ACCOUNT = "payer_account", _("Same payer account or card")
        SAME_PAYER_NAME = "payer_name", _("Same bank account holder name")
        SAME_SIGNUP = "signup", _("Same sign-up address and browser")

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="flags", verbose_name=_("referral")
    )
    reason = models.CharField(max_length=16, choices=Reason.choices, verbose_name=_("reason"))
    # What matched (an account number, a name, an address) and where (deposit ids, users).
    evidence = models.JSONField(default=dict, verbose_name=_("evidence"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("referral flag")
        verbose_name_plural = _("referral flags")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "reason"], name="referral_flag_once")
        ]

    def __str__(self) -> str:
        values = {"reason": self.get_reason_display(), "referral": self.referral_id}
        return gettext("%(reason)s on referral #%(referral)s") % values


class ReferralChange(models.Model):
    """An admin's change of a customer's referrer, with the reason."""

    referred = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("referred"),
    )
    old_referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("old referrer"),
    )
    new_referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("new referrer"),
    )
    reason = models.CharField(max_length=255, verbose_name=_("reason"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("referral change")
        verbose_name_plural = _("referral changes")
        ordering = ["-id"]

    def __str__(self) -> str:
        values = {
            "user": self.referred_id,
            # No referrer before or after: a dash, as an empty cell reads.
            "old": f"#{self.old_referrer_id}" if self.old_referrer_id else "—",
            "new": f"#{self.new_referrer_id}" if self.new_referrer_id else "—",
        }
        return gettext("Referrer of user #%(user)s: %(old)s → %(new)s") % values


class SignupTrace(models.Model):
    """Where a sign-up came from, kept PANEL_AFFILIATE_TRACE_DAYS for the self-referral guard:
    the client address and a keyed digest of the browser's User-Agent (the text itself is not
    kept)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="signup_trace",
        verbose_name=_("user"),
    )
    address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("address"))
    agent_digest = models.CharField(max_length=64, blank=True, verbose_name=_("agent digest"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("signup trace")
        verbose_name_plural = _("signup traces")
        indexes = [models.Index(fields=["address", "agent_digest"], name="signup_trace_match")]

    def __str__(self) -> str:
        return gettext("Sign-up of user #%(user)s") % {"user": self.user_id}


class Commission(models.Model):
    """The share of one referred deposit. Accrued pending, settled into the commission ledger
    once its payment can no longer be taken back, reversed if it is (docs/affiliates.md)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # held until settle_at
        HELD = "held", _("Held for review")  # its referral is flagged
        AVAILABLE = "available", _("Available")  # settled: a ledger line credited it
        REVERSED = "reversed", _("Reversed")  # its deposit was refunded or charged back
        REFUSED = "refused", _("Refused")  # an admin found the referral was a self-referral

    # A plain id like the ledger's: one commission per deposit, whatever runs the pass.
    deposit_id = models.BigIntegerField(unique=True, verbose_name=_("deposit ID"))
    affiliate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("affiliate"),
    )
    referred = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("referred"),
    )
    deposit_amount = money_field(verbose_name=_("deposit amount"))
    # When its deposit was credited: the settle pass looks only at deposits credited since the
    # newest one it has seen (less a margin), not at every deposit ever credited.
    deposit_credited_at = models.DateTimeField(db_index=True, verbose_name=_("deposit credited at"))
    percent = models.DecimalField(max_digits=5, decimal_places=2, verbose_name=_("percent"))
    amount = money_field(verbose_name=_("amount"))
    status = models.CharField(
        max_length=16, choices=Status.choices, db_index=True, verbose_name=_("status")
    )
    settle_at = models.DateTimeField(verbose_name=_("settle at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))
    reversed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reversed at"))

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["affiliate", "status"], name="commission_affiliate_status"),
            models.Index(
                fields=["settle_at"],
                condition=Q(status="pending"),
                name="commission_due",
            ),
        ]
        constraints = [
            # Zero only for a refused one (a percent of 0): it is never settled.
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(status="refused") | Q(status="reversed"),
                name="commission_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status="available") | Q(settled_at__isnull=False),
                name="commission_available_settled",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(amount)s on deposit %(deposit)s (%(status)s)") % {
            "amount": money_shown(self.amount),
            "deposit": self.deposit_id,
            "status": self.get_status_display(),
        }


class Payout(models.Model):
    """Commission the affiliate asked to be paid outside the panel: set aside from the ledger
    when asked, then paid or rejected (given back) by an admin."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    affiliate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("affiliate"),
    )
    amount = money_field(verbose_name=_("amount"))
    # Where to send it, as the affiliate wrote it (bank, account, holder).
    details = models.CharField(max_length=255, verbose_name=_("details"))
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.REQUESTED,
        db_index=True,
        verbose_name=_("status"),
    )
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")
        ]

    def __str__(self) -> str:
        return gettext("payout %(amount)s to %(user)s (%(status)s)") % {
            "amount": money_shown(self.amount),
            "user": self.affiliate_id,
            "status": self.get_status_display(),
        }
