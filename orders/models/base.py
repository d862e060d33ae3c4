"""What every order-like row shares: where it stands with its provider (Dispatched), what it
cost (Charged), and the names pages give its states."""

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import ZERO, money_field

# The status enums live with the protocol they spell (providers.statuses).

# The statuses as pages name them in the reader's language; stored values and the API keep the
# protocol's English (docs/protocol.md).
STATUS_NAMES = {
    "Pending": pgettext_lazy("status", "Pending"),
    "Processing": pgettext_lazy("status", "Processing"),
    "In progress": pgettext_lazy("status", "In progress"),
    "Completed": pgettext_lazy("status", "Completed"),
    "Partial": pgettext_lazy("status", "Partial"),
    "Canceled": pgettext_lazy("status", "Canceled"),
    "Rejected": pgettext_lazy("status", "Rejected"),
}


ONE_OPEN_ORDER_PER_LINK = "order_one_open_per_link"


class DispatchState(models.TextChoices):
    """Where a request stands with the upstream provider, apart from what the customer sees."""

    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NEEDS_REVIEW = "needs_review", _("Needs review")


class ReviewReason(models.TextChoices):
    """Why a row waits for a person; orders/lifecycle/table.py says what each one allows."""

    ADD_UNKNOWN = "add_unknown", _("The add's outcome is unknown (timeout, 5xx, unreadable answer)")
    WORKER_LOST = "worker_lost", _("The worker stopped during the upstream call")
    ANSWER_NOT_KEPT = "answer_not_kept", _("The provider's id could not be kept (late or in use)")
    UNKNOWN_STATUS = "unknown_status", _("The provider keeps answering a status nobody knows")
    MISSING_UPSTREAM = "missing_upstream", _("The provider keeps answering Incorrect ID")
    PARTIAL_NO_FIGURES = "partial_no_figures", _("Partial without remains or charge")
    CANCEL_UNKNOWN = "cancel_unknown", _("The cancel's outcome at the provider is unknown")


class Source(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    MASS = "mass", _("Mass order")
    ADMIN = "admin", _("Admin")
    TELEGRAM = "telegram", _("Telegram")
    REFILL = "refill", _("Refill")  # the panel's own order of a refill's missing quantity


class Dispatched(models.Model):
    """Fields of anything forwarded upstream exactly once and then polled."""

    upstream_id = models.CharField(
        max_length=64, null=True, blank=True, verbose_name=_("upstream ID")
    )
    dispatch_state = models.CharField(
        max_length=16,
        choices=DispatchState.choices,
        default=DispatchState.QUEUED,
        verbose_name=_("dispatch state"),
    )
    dispatch_attempts = models.PositiveSmallIntegerField(
        default=0, verbose_name=_("dispatch attempts")
    )
    dispatch_error = models.CharField(max_length=500, blank=True, verbose_name=_("dispatch error"))
    review_reason = models.CharField(
        max_length=32, choices=ReviewReason.choices, blank=True, verbose_name=_("review reason")
    )
    next_dispatch_at = models.DateTimeField(
        default=timezone.now, null=True, blank=True, verbose_name=_("next dispatch at")
    )
    sending_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("sending started at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    next_poll_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next poll at"))
    poll_idle_count = models.PositiveSmallIntegerField(default=0, verbose_name=_("poll idle count"))
    poll_miss_count = models.PositiveSmallIntegerField(default=0, verbose_name=_("poll miss count"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        abstract = True


class Charged(models.Model):
    """Money fields of a paid order. `refunded` caches the ledger's refund row for listings."""

    charge = money_field(
        help_text=_("What the customer paid, panel currency."), verbose_name=_("charge")
    )
    refunded = money_field(default=ZERO, verbose_name=_("refunded"))
    upstream_rate = money_field(
        help_text=_("The provider's rate when placed, provider currency."),
        verbose_name=_("upstream rate"),
    )
    exchange_rate = models.DecimalField(
        max_digits=20, decimal_places=8, default=Decimal(1), verbose_name=_("exchange rate")
    )
    cost = money_field(
        help_text=_("What upstream charges, panel currency (estimate until upstream reports)."),
        verbose_name=_("cost"),
    )
    client_ref = models.CharField(
        max_length=64, null=True, blank=True, verbose_name=_("client ref")
    )
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.WEB, verbose_name=_("source")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        abstract = True

    @property
    def net_charge(self) -> Decimal:
        return self.charge - self.refunded

    @property
    def profit(self) -> Decimal:
        return self.charge - self.refunded - self.cost
