"""Balance snapshots, reconciled provider days and their mismatches (docs/reconciliation.md).

Every figure is in the provider's currency: a provider's balance is, and converting would blur a
difference into the exchange rate."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.money import ZERO, money_field
from orders.models import Order
from providers.models import Provider


class BalanceSnapshot(models.Model):
    """The provider's balance as read at the start of `day` (midnight in TIME_ZONE, or later
    when the beat ran late): the edge between the day before and `day`. The read happened
    somewhere between `requested_at` and `answered_at`; the reconciliation tolerates the orders
    sent meanwhile (docs/reconciliation.md, "The edges of a day")."""

    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    day = models.DateField(verbose_name=_("day"))
    balance = money_field(null=True, blank=True, verbose_name=_("balance"))
    currency = models.CharField(max_length=8, blank=True, verbose_name=_("currency"))
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("balance snapshot")
        verbose_name_plural = _("balance snapshots")
        default_permissions = ()
        ordering = ["-day", "provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="snapshot_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.day}"

    @property
    def is_read(self) -> bool:
        return self.balance is not None


class ProviderDay(models.Model):
    """One provider's reconciled day: the figures of docs/reconciliation.md, recomputed by every
    run of that day (the mismatches found stay, with their resolutions)."""

    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    day = models.DateField(_("day"))
    currency = models.CharField(max_length=8, blank=True, verbose_name=_("currency"))
    # The window: from the opening snapshot's request to the closing one's (calendar midnights
    # when a snapshot is missing, and then there is no balance check).
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    opening_balance = money_field(null=True, blank=True, verbose_name=_("opening balance"))
    closing_balance = money_field(null=True, blank=True, verbose_name=_("closing balance"))
    charges_expected = money_field(default=ZERO, verbose_name=_("charges expected"))
    refunds_expected = money_field(default=ZERO, verbose_name=_("refunds expected"))
    orders_difference = money_field(default=ZERO, verbose_name=_("orders difference"))
    balance_difference = money_field(null=True, blank=True, verbose_name=_("balance difference"))
    # How much more (or less) the provider may have taken than the day's figures say, from
    # what its edges leave open (docs/reconciliation.md, "The edges of a day").
    slack_more = money_field(default=ZERO, verbose_name=_("slack more"))
    slack_less = money_field(default=ZERO, verbose_name=_("slack less"))
    tolerance = money_field(default=ZERO, verbose_name=_("tolerance"))
    orders_sent = models.PositiveIntegerField(_("orders bought"), default=0)
    orders_checked = models.PositiveIntegerField(default=0, verbose_name=_("orders checked"))
    orders_unanswered = models.PositiveIntegerField(default=0, verbose_name=_("orders unanswered"))
    reconciled_at = models.DateTimeField(verbose_name=_("reconciled at"))

    class Meta:
        verbose_name = _("provider day")
        verbose_name_plural = _("provider days")
        default_permissions = ()
        permissions = [
            ("view_reconciliation", gettext_noop("Can view the provider reconciliation")),
            ("resolve_reconciliation", gettext_noop("Can resolve reconciliation mismatches")),
        ]
        ordering = ["-day", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="provider_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider.name} {self.day.isoformat()}"

    @property
    def has_balance_check(self) -> bool:
        return self.balance_difference is not None

    @property
    def balance_spent(self) -> Decimal | None:
        """What the provider's balance fell by over the day (negative: it rose)."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.opening_balance - self.closing_balance

    @property
    def spent_expected(self) -> Decimal:
        return self.charges_expected - self.refunds_expected


class MismatchKind(models.TextChoices):
    OVERCHARGED = "overcharged", _("Charged more than its price")
    REFUND_MISSING = "refund_missing", _("Refunded by the panel, still charged by the provider")
    REFUND_KEPT = "refund_kept", _("Refunded by the provider, not passed on")
    BALANCE = "balance", _("Balance drift not explained by orders")


class MismatchStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed from the provider")
    RECOVERED = "recovered", _("Recovered")
    WRITTEN_OFF = "written_off", _("Written off")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    @classmethod
    def unsettled(cls) -> tuple[str, ...]:
        return (cls.OPEN, cls.CLAIMED)


class Mismatch(models.Model):
    """One thing that does not match, and its way out (reconciliation/services/resolutions.py
    says which resolution each status allows)."""

    provider_day = models.ForeignKey(
        ProviderDay,
        on_delete=models.PROTECT,
        related_name="mismatches",
        verbose_name=_("provider day"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MismatchKind.choices)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("order"),
    )
    # Provider currency. For an order: its price, what the panel expects it to charge (the
    # share of the price the panel kept of the customer's charge) and what it reports. For the
    # balance: the day's expected and actual spend.
    full_price = money_field(default=ZERO, verbose_name=_("full price"))
    expected = money_field(verbose_name=_("expected"))
    reported = money_field(verbose_name=_("reported"))
    status = models.CharField(
        _("status"), max_length=16, choices=MismatchStatus.choices, default=MismatchStatus.OPEN
    )
    # Each step: {"at", "by", "status", "note"}; notes are the operators' own words.
    history = models.JSONField(default=list, blank=True, verbose_name=_("history"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settled by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Set by the one alert that told the operators (reconciliation.alerts).
    alerted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("alerted at"))

    class Meta:
        verbose_name = _("mismatch")
        verbose_name_plural = _("mismatches")
        default_permissions = ()
        ordering = ["-provider_day__day", "id"]
        constraints = [
            # A re-run finds the same order again: it updates the flag, never adds a second.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(order__isnull=False),
                name="mismatch_order_once",
            ),
            models.UniqueConstraint(
                fields=["provider_day"], condition=Q(kind="balance"), name="mismatch_balance_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"], condition=Q(status__in=["open", "claimed"]), name="mismatch_open"
            ),
            models.Index(fields=["order"], condition=Q(order__isnull=False), name="mismatch_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def difference(self) -> Decimal:
        return self.reported - self.expected

    @property
    def is_settled(self) -> bool:
        return self.status not in MismatchStatus.unsettled()
