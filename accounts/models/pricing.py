"""What lowers a price or adds to a deposit: ranks (pricing tiers) and coupons with their
redemptions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models.ledger import BalanceTransaction
from core.money import ZERO, money_field, number_shown, reader_language


class PricingTier(models.Model):
    """A rank: what customers whose total deposits or spend reach a threshold are called, the
    percent off every price it gives and what it unlocks (accounts.ranks has the rules).

    Each user holds the best rank they reached (`User.pricing_tier`), never lowered on its own;
    the price a customer pays is resolved in providers.pricing: their override, else this
    percent or their personal discount (whichever is larger), else the service's price.
    """

    class Basis(models.TextChoices):
        DEPOSITS = "deposits", _("Total deposits")
        SPEND = "spend", _("Total spend (charges less refunds)")

    # Names are the operator's words, one per language: shown to each reader in theirs.
    name = models.CharField(
        max_length=100,
        unique=True,
        help_text=_("The rank's name in English (e.g. Reseller)."),
        verbose_name=_("name"),
    )
    name_vi = models.CharField(
        _("name in Vietnamese"),
        max_length=100,
        blank=True,
        help_text=_("The rank's name in Vietnamese (e.g. Đại lý); empty: the English name."),
    )
    basis = models.CharField(
        max_length=16, choices=Basis.choices, default=Basis.DEPOSITS, verbose_name=_("basis")
    )
    threshold = money_field(
        help_text=_("Reached when the basis total is at least this."), verbose_name=_("threshold")
    )
    percent_off = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("Taken off every price; 0 for a starting rank."),
        verbose_name=_("percent off"),
    )
    unlocks_child_panels = models.BooleanField(
        default=False,
        help_text=_("Customers of this rank may order child panels."),
        verbose_name=_("unlocks child panels"),
    )
    # A rank may unlock a higher referral commission than PANEL_AFFILIATE_PERCENT; empty: the
    # global percent (docs/affiliates.md).
    affiliate_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Referral commission for affiliates holding this tier, when higher than the "
            "global percent; empty: the global percent."
        ),
        verbose_name=_("affiliate percent"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name_plural = _("ranks")
        ordering = ["basis", "threshold"]
        verbose_name = _("rank")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_off__gte=0) & Q(percent_off__lte=100),
                name="pricing_tier_percent_range",
            ),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="pricing_tier_threshold"),
            models.CheckConstraint(
                condition=Q(affiliate_percent__isnull=True)
                | (Q(affiliate_percent__gte=0) & Q(affiliate_percent__lte=100)),
                name="pricing_tier_affiliate_percent_range",
            ),
        ]

    def __str__(self) -> str:
        # Written as the reader's language writes a percent: "2,5" in Vietnamese, never "10.00".
        return gettext("%(name)s (%(percent)s%% off)") % {
            "name": self.name_in(reader_language()),
            "percent": number_shown(self.percent_off),
        }

    def name_in(self, language: str) -> str:
        """The operator's name for this rank in `language`, else the English one."""
        if language.split("-")[0].lower() == "vi" and self.name_vi:
            return self.name_vi
        return self.name


class Coupon(models.Model):
    """A code that adds a bonus to a deposit: a percent of it and/or a fixed amount."""

    code = models.CharField(
        max_length=32, unique=True, help_text=_("Stored upper-case."), verbose_name=_("code")
    )
    bonus_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=ZERO, verbose_name=_("bonus percent")
    )
    bonus_amount = money_field(default=ZERO, verbose_name=_("bonus amount"))
    min_deposit = money_field(default=ZERO, verbose_name=_("min deposit"))
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: unlimited."), verbose_name=_("max uses")
    )
    max_uses_per_user = models.PositiveIntegerField(default=1, verbose_name=_("max uses per user"))
    uses = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("uses"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bonus_percent__gte=0) & Q(bonus_percent__lte=100),
                name="coupon_bonus_percent_range",
            ),
            models.CheckConstraint(condition=Q(bonus_amount__gte=0), name="coupon_bonus_amount"),
            models.CheckConstraint(
                condition=Q(bonus_percent__gt=0) | Q(bonus_amount__gt=0),
                name="coupon_has_a_bonus",
            ),
            # The limit holds in the database too, whatever races the service loses.
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="coupon_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    """One use of a coupon on one deposit. `deposit_key` is the deposit's external key (its
    gateway and transaction id), so a replayed deposit never pays its bonus twice."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("coupon")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coupon_redemptions",
        verbose_name=_("user"),
    )
    deposit_key = models.CharField(max_length=128, unique=True, verbose_name=_("deposit key"))
    deposit_amount = money_field(verbose_name=_("deposit amount"))
    bonus = money_field(verbose_name=_("bonus"))
    ledger_entry = models.OneToOneField(
        BalanceTransaction,
        on_delete=models.PROTECT,
        # No foreign key in the database: the ledger is partitioned, its key is (id, period).
        db_constraint=False,
        related_name="coupon_redemption",
        verbose_name=_("ledger entry"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(bonus__gt=0), name="coupon_bonus_positive")
        ]

    def __str__(self) -> str:
        return gettext("%(coupon)s for %(deposit)s") % {
            "coupon": self.coupon,
            "deposit": self.deposit_key,
        }
