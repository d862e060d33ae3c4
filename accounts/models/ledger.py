"""The money ledgers of an account: the spending balance's and the referral commission's."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core import memos
from core.db.partitions import PeriodField
from core.money import money_field, money_shown


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
    # The month of the row's subject (YYYYMM, 0 before partitioning; core.db.partitions): the
    # table is partitioned by it, and being a function of the order, product order, refill or
    # deposit id it keeps the unique keys below whole across months (docs/scaling.md). The
    # database reads it from its registry as the row is written (accounts.services); a row
    # with no subject takes its own month. No default: a writer that forgot it must fail, not
    # take this month. The primary key is (id, period) in the database.
    period = PeriodField(editable=False, verbose_name=_("period"))

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
                fields=["order_id", "kind", "period"],
                condition=Q(order_id__isnull=False),
                name="ledger_once_per_order_and_kind",
            ),
            models.UniqueConstraint(
                fields=["product_order_id", "kind", "period"],
                condition=Q(product_order_id__isnull=False),
                name="ledger_once_per_product_order_and_kind",
            ),
            models.UniqueConstraint(
                fields=["refill_id", "kind", "period"],
                condition=Q(refill_id__isnull=False),
                name="ledger_once_per_refill_and_kind",
            ),
            # A deposit credits once and pays its bonus once, however often its webhook comes.
            models.UniqueConstraint(
                fields=["deposit_id", "kind", "period"],
                condition=Q(deposit_id__isnull=False),
                name="ledger_once_per_deposit_and_kind",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
        ]

    def __str__(self) -> str:
        # The admin's title: the amount in the customer's own currency (the lists load him).
        return gettext("%(kind)s %(amount)s for %(user)s") % {
            "kind": self.get_kind_display(),
            "amount": money_shown(self.amount, currency=self.user.currency),
            "user": self.user_id,
        }

    @property
    def memo_text(self) -> str:
        """The memo in the reader's language (the active one)."""
        return memos.render(self.memo_code, self.memo_params, fallback=self.memo)


class LedgerArchivedTotal(models.Model):
    """A user's ledger rows of the archived months, summed by kind (panel.archive): the
    balance still equals the ledger rows plus these, and totals by kind (rank progress) still
    count the archived months."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("user"),
    )
    kind = models.CharField(
        max_length=16, choices=BalanceTransaction.Kind.choices, verbose_name=_("kind")
    )
    amount = money_field(verbose_name=_("amount"))

    class Meta:
        verbose_name = _("archived ledger total")
        verbose_name_plural = _("archived ledger totals")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="ledger_archived_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.amount}"


class LedgerArchivedKey(models.Model):
    """The key of a ledger row of an archived month whose subject outlives the month (a
    product order, a refill, a deposit: their rows are not partitioned), written by
    panel.archive with the drop. The month's partition and its unique keys are gone, so a row
    written later for that subject lands in the DEFAULT partition, whose trigger meets these
    keys (core.db.partitions.archive): a replayed credit fails as it did before the archive.
    Orders need none: an archived order's row is gone and its id never comes back, so no
    service can write its charge or refund again."""

    class Subject(models.TextChoices):
        PRODUCT_ORDER = "product_order_id", _("product order")
        REFILL = "refill_id", _("refill")
        DEPOSIT = "deposit_id", _("deposit")

    subject = models.CharField(
        max_length=16, choices=Subject.choices, verbose_name=pgettext_lazy("ledger key", "subject")
    )
    subject_id = models.BigIntegerField(verbose_name=_("subject ID"))
    kind = models.CharField(
        max_length=16, choices=BalanceTransaction.Kind.choices, verbose_name=_("kind")
    )
    period = models.IntegerField(verbose_name=_("period"))

    class Meta:
        verbose_name = _("archived ledger key")
        verbose_name_plural = _("archived ledger keys")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "subject_id", "kind"], name="ledger_archived_key_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.subject_id} {self.kind}"


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
            "amount": money_shown(self.amount),
            "user": self.user_id,
        }
