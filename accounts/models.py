from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.child_panels import (
    CHILD_PANEL_PERMISSIONS,
    CHILD_PANEL_ROLE_NAMES,
    CHILD_PANEL_ROLES,
    ChildPanel,
    ChildPanelCharge,
    ChildPanelLogo,
    ChildPanelState,
    SuspendedReason,
)
from accounts.usernames import username_normalize
from core import memos
from core.money import ZERO, money_field, panel_currency
from core.tenancy import current_panel_id

__all__ = [
    "CHILD_PANEL_PERMISSIONS",
    "CHILD_PANEL_ROLES",
    "CHILD_PANEL_ROLE_NAMES",
    "ChildPanel",
    "ChildPanelCharge",
    "ChildPanelLogo",
    "ChildPanelState",
    "SuspendedReason",
]


class UserManager(DjangoUserManager["User"]):
    def in_current_panel(self) -> "QuerySet[User]":
        """The accounts of the panel being served (core.tenancy): a parent customer is not a
        child panel's customer, and a name or an address means an account of one panel only."""
        return self.filter(child_panel_id=current_panel_id())

    def with_username(self, username: str) -> "QuerySet[User]":
        """The current panel's account a name means, in any case and compatibility spelling (at
        most one: the database keeps Lower(username) unique per panel)."""
        return (
            self.in_current_panel()
            .alias(username_lower=Lower("username"))
            .filter(username_lower=Lower(Value(username_normalize(username))))
        )

    def get_by_natural_key(self, username: str | None) -> "User":
        # The authentication backend's lookup: "ALICE" and "ａlice" log in as alice.
        return self.with_username(username or "").get()


class User(AbstractUser):
    # Unique per panel, not across the install (the constraint below): two panels may each have
    # an "alice". The authentication backend looks names up in the current panel only.
    username = models.CharField(
        _("username"),
        max_length=150,
        help_text=_("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
        validators=[AbstractUser.username_validator],
    )
    # The child panel this account belongs to; empty for the parent panel's own accounts. Every
    # order, ticket, key and session of the account follows it (docs/child-panels.md).
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="customers",
    )
    # A cache of the ledger: changed only by accounts.services.balance_credit/balance_debit.
    balance = money_field(default=ZERO, editable=False, verbose_name=_("balance"))
    currency = models.CharField(
        max_length=3, default=panel_currency, editable=False, verbose_name=_("currency")
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        help_text=_("Taken off every service and product price this user pays, 0–100."),
        verbose_name=_("discount percent"),
    )
    # The rank (accounts.ranks): set by pricing_tiers_assign from the ledger's totals, right
    # after each credited deposit and on beat; it only ever moves up on its own.
    pricing_tier = models.ForeignKey(
        "accounts.PricingTier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="users",
        verbose_name=_("pricing tier"),
    )
    # The language the user chose with the switcher; empty until they choose (PANEL_LANGUAGE).
    language = models.CharField(
        max_length=8, blank=True, default="", choices=settings.LANGUAGES, verbose_name=_("language")
    )
    # A self sign-up whose emailed link was not opened yet. Kept apart from is_active, which an
    # admin also clears: only these expire (PANEL_SIGNUP_CONFIRM_HOURS) and free their address.
    # A default in the database too: raw inserts (bench, restores) that predate it keep working.
    awaiting_confirmation = models.BooleanField(
        default=False, db_default=False, editable=False, verbose_name=_("awaiting confirmation")
    )
    # The admin's grant of child panels whatever the rank (accounts.ranks.can_order_child_panels).
    child_panels_allowed = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("May order child panels whatever their rank."),
        verbose_name=_("child panels allowed"),
    )
    # A cache of the commission ledger (CommissionTransaction), apart from the spending balance:
    # changed only by accounts.commission. Below zero is commission that was paid out and then
    # reversed: owed, and recovered from the next commissions (docs/affiliates.md). A default in
    # the database too, for the raw inserts that predate it.
    commission_balance = money_field(
        default=ZERO, db_default=ZERO, editable=False, verbose_name=_("commission balance")
    )

    # A Vietnamese mobile number, also the customer's Zalo, in the national form (core.phones):
    # optional at sign-up, edited on the account page, read by staff in the admin.
    phone = models.CharField(
        _("phone / Zalo"),
        max_length=10,
        blank=True,
        default="",
        db_default="",
        validators=[
            RegexValidator(
                r"^0[35789]\d{8}$", _("Enter a Vietnamese mobile number, e.g. 0912345678.")
            )
        ],
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # One account per name and panel whatever its case: "ALICE" cannot sit beside "alice".
            models.UniqueConstraint(
                Lower("username"),
                F("child_panel"),
                nulls_distinct=False,
                name="user_username_lower_unique_per_panel",
                violation_error_message=_("This username is taken."),
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="user_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="user_discount_percent_range",
            ),
            # A superuser holds every permission of the install, past any backend: a child
            # panel's account never is one (its admin's powers are CHILD_PANEL_PERMISSIONS).
            models.CheckConstraint(
                condition=Q(child_panel__isnull=True) | Q(is_superuser=False),
                name="user_child_panel_not_superuser",
            ),
        ]

    @property
    def preferred_language(self) -> str:
        """The language pages and emails to this user are written in."""
        return self.language or settings.LANGUAGE_CODE


class ChildPanelStaff(User):
    """A child panel's staff member: an account of the panel with the admin's door open
    (is_staff) and the roles its owner granted. The same row as a customer's, listed apart in
    the panel's own admin (docs/child-panels.md, "Its own admin")."""

    class Meta:
        proxy = True
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")


class BalanceTransaction(models.Model):
    """One money movement. The sum of a user's rows is their balance, always."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        # Its own word in Vietnamese (a debit, "Trừ tiền"), apart from an order's "Charge" column.
        CHARGE = "charge", pgettext_lazy("ledger kind", "Charge")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Adjustment")
        BONUS = "bonus", _("Bonus")
        # Referral commission moved from the commission balance (accounts.commission).
        COMMISSION = "commission", _("Referral commission")
        # A child panel's setup price or monthly fee, paid by its owner (docs/child-panels.md).
        CHILD_PANEL = "child_panel", _("Child panel fee")

    # No index of its own: "ledger_user_recent" starts with the user and serves every lookup.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="ledger",
        db_index=False,
        verbose_name=_("user"),
    )
    amount = money_field(verbose_name=_("amount"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    balance_after = money_field(verbose_name=_("balance after"))
    # Plain ids, not foreign keys: the ledger sits below the orders app and outlives any row.
    order_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("order ID"))
    product_order_id = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("product order ID")
    )
    # A refill that ends refunded pays out apart from its order's own refund (docs/lifecycle.md).
    refill_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("refill ID"))
    deposit_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("deposit ID"))
    # What a person typed (an adjustment's reason), shown as typed; what the panel writes is a
    # code and its parameters, put into the reader's words when shown (core.memos).
    memo = models.CharField(max_length=255, blank=True, verbose_name=_("memo"))
    memo_code = models.CharField(max_length=48, blank=True, default="", db_default="")
    memo_params = models.JSONField(blank=True, default=dict, db_default={})
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The admin who made a manual deposit or adjustment."),
        verbose_name=_("created by"),
        db_index=False,  # partial, below: set on manual entries only
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("balance transaction")
        verbose_name_plural = _("balance transactions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="ledger_user_recent"),
            # A customer's total deposits (their rank's progress, after every deposit) from the
            # few deposit rows alone, not from every charge of a busy reseller's ledger.
            models.Index(
                fields=["user"],
                include=["amount"],
                condition=Q(kind="deposit"),
                name="ledger_user_deposits",
            ),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="ledger_created_by_set",
            ),
        ]
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
            models.UniqueConstraint(
                fields=["refill_id", "kind"],
                condition=Q(refill_id__isnull=False),
                name="ledger_once_per_refill_and_kind",
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
        return gettext("%(kind)s %(amount)s for %(user)s") % {
            "kind": self.get_kind_display(),
            "amount": self.amount,
            "user": self.user_id,
        }

    @property
    def memo_text(self) -> str:
        """The memo in the reader's language (the active one)."""
        return memos.render(self.memo_code, self.memo_params, fallback=self.memo)


class CommissionTransaction(models.Model):
    """One movement of referral commission: the affiliate's own ledger, apart from the spending
    balance. The sum of a user's rows is their commission_balance, always (check_ledger)."""

    class Kind(models.TextChoices):
        COMMISSION = "commission", _("Commission settled")
        REVERSAL = "reversal", _("Commission reversed")
        TRANSFER = "transfer", _("Moved to balance")
        PAYOUT = "payout", _("Payout requested")
        PAYOUT_RETURN = "payout_return", _("Payout rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commission_ledger",
        db_index=False,
        verbose_name=_("user"),
    )
    amount = money_field(verbose_name=_("amount"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    # May be below zero (owed); a debit the affiliate asks for never takes it there.
    balance_after = money_field(verbose_name=_("balance after"))
    # Plain ids, like the balance ledger's: the rows they name live in the affiliates app above.
    commission_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("commission ID"))
    payout_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("payout ID"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("commission transaction")
        verbose_name_plural = _("commission transactions")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="commission_user_recent")]
        constraints = [
            # A commission settles once and is reversed once, however often the pass runs.
            models.UniqueConstraint(
                fields=["commission_id", "kind"],
                condition=Q(commission_id__isnull=False),
                name="commission_once_per_kind",
            ),
            models.UniqueConstraint(
                fields=["payout_id", "kind"],
                condition=Q(payout_id__isnull=False),
                name="commission_payout_once_per_kind",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="commission_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s %(amount)s for %(user)s") % {
            "kind": self.get_kind_display(),
            "amount": self.amount,
            "user": self.user_id,
        }


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
        return gettext("%(name)s (%(percent)s%% off)") % {
            "name": self.name,
            "percent": self.percent_off,
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


class FormSubmission(models.Model):
    """A one-time form token, used: a second POST of the same form finds this row and acts no
    more (see accounts.form_tokens). The row is written in the same transaction as what the
    form did, so a failed submit leaves the token free to send again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="form_submissions",
        verbose_name=_("user"),
    )
    token = models.CharField(max_length=64, verbose_name=_("token"))
    result_url = models.CharField(max_length=500, blank=True, verbose_name=_("result URL"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="form_submission_once")
        ]

    def __str__(self) -> str:
        return f"form {self.token[:8]}… of {self.user_id}"


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
        return f"TOTP of {self.user_id}"

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
        return f"recovery code of {self.user_id}"
