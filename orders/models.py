from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core import memos
from core.money import ZERO, money_field
from providers.models import Product, Provider, RefillEscalation, Service, ServiceRoute

# The status enums live with the protocol they spell (providers.statuses).
from providers.statuses import OrderStatus, ProductOrderStatus, RefillStatus

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


class Order(Dispatched, Charged):
    # No index of their own on user and service: every poll rewrites each live order's row, and
    # each index costs an insert per rewrite. "order_user_recent" starts with the user and
    # serves every lookup by user; orders are never looked up by service (services are never
    # deleted, only taken off sale).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
        verbose_name=_("user"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
        verbose_name=_("service"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="orders", verbose_name=_("provider")
    )
    # Where the order went (orders.routing): the route, if the service has routes, and the
    # provider's service id it was sent as. Refills and cancels follow `provider`.
    route = models.ForeignKey(
        ServiceRoute,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("route"),
        db_index=False,  # partial, below: most orders take no route
    )
    upstream_service_id = models.CharField(
        max_length=64, blank=True, verbose_name=_("upstream service ID")
    )
    link = models.CharField(max_length=1000, blank=True, verbose_name=_("link"))
    # orders.links.link_key of `link` when the service allows one open order per link; the
    # unique index below is what refuses the second one, so a race cannot slip past it.
    link_key = models.CharField(
        max_length=64, null=True, blank=True, editable=False, verbose_name=_("link key")
    )
    quantity = models.PositiveBigIntegerField(
        help_text=_("As sent upstream (per run for drip-feed)."), verbose_name=_("quantity")
    )
    total_quantity = models.PositiveBigIntegerField(
        help_text=_("What is charged for: quantity × runs, or posts × max."),
        verbose_name=_("total quantity"),
    )
    runs = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("runs"))
    interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Minutes between drip-feed runs."),
        verbose_name=_("interval"),
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("The type's own fields, as sent upstream."),
        verbose_name=_("details"),
    )
    status = models.CharField(
        max_length=16,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING,
        verbose_name=_("status"),
    )
    start_count = models.BigIntegerField(null=True, blank=True, verbose_name=_("start count"))
    remains = models.BigIntegerField(null=True, blank=True, verbose_name=_("remains"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_ref"],
                condition=Q(client_ref__isnull=False),
                name="order_unique_client_ref",
            ),
            models.UniqueConstraint(
                fields=["provider", "upstream_id"],
                condition=Q(upstream_id__isnull=False),
                name="order_unique_upstream_id",
            ),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("charge")),
                name="order_refund_within_charge",
            ),
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_not_negative"),
            # Open statuses only: the link frees the moment its order is final.
            models.UniqueConstraint(
                fields=["service", "link_key"],
                condition=Q(link_key__isnull=False) & Q(status__in=OrderStatus.opens()),
                name=ONE_OPEN_ORDER_PER_LINK,
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user_recent"),
            models.Index(fields=["user", "status", "-id"], name="order_user_status"),
            # The dashboard: today's live figures and the days the rollup must redo.
            models.Index(fields=["created_at"], name="order_created"),
            models.Index(fields=["updated_at"], name="order_updated"),
            models.Index(
                fields=["provider", "next_poll_at"],
                condition=Q(dispatch_state="sent")
                & ~Q(status__in=["Completed", "Partial", "Canceled"]),
                name="order_due_for_poll",
            ),
            models.Index(
                fields=["dispatch_state", "next_dispatch_at"],
                condition=Q(dispatch_state__in=["queued", "sending"]),
                name="order_due_for_dispatch",
            ),
            models.Index(
                fields=["dispatch_state"],
                condition=Q(dispatch_state="needs_review"),
                name="order_needs_review",
            ),
            # The dashboard counts reviews by reason with an index-only scan.
            models.Index(
                fields=["review_reason"],
                condition=Q(dispatch_state="needs_review"),
                name="order_review_reason",
            ),
            models.Index(fields=["route"], condition=Q(route__isnull=False), name="order_routed"),
        ]

    def __str__(self) -> str:
        return gettext("Order %(id)s") % {"id": self.pk}

    @property
    def is_final(self) -> bool:
        return self.status in OrderStatus.finals()


class RefillCause(models.TextChoices):
    """Why a refill escalated."""

    REJECTED = "rejected", _("The provider rejected it")
    DEADLINE = "deadline", _("Not done by its deadline")


class Refill(Dispatched):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refills", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="refills",
        verbose_name=_("user"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="refills", verbose_name=_("provider")
    )
    status = models.CharField(
        max_length=16,
        choices=RefillStatus.choices,
        default=RefillStatus.PENDING,
        verbose_name=_("status"),
    )
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.WEB, verbose_name=_("source")
    )
    # The refill rules (docs/lifecycle.md, "Refills"). What the refill asks for: the units the
    # order delivered (what the warranty keeps); None for a package, whose size is unknown.
    missing_quantity = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("missing quantity")
    )
    # Not Completed by then: the service's escalation rule takes over (refills_escalate_due).
    deadline_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deadline at"))
    # The escalation step taken (once each): asked again, reordered elsewhere, or refunded.
    escalation = models.CharField(
        max_length=16,
        choices=RefillEscalation.choices,
        blank=True,
        default="",
        verbose_name=_("escalation"),
    )
    escalation_cause = models.CharField(
        max_length=16,
        choices=RefillCause.choices,
        blank=True,
        default="",
        verbose_name=_("escalation cause"),
    )
    # The panel's order of the missing quantity at another route (escalation "reorder").
    replacement = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_refill",
        verbose_name=_("replacement"),
    )
    refunded = money_field(
        default=ZERO,
        help_text=_("Paid back when the refill ended refunded."),
        verbose_name=_("refunded"),
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("refill")
        verbose_name_plural = _("refills")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(refunded__gte=0), name="refill_refund_not_negative"),
            # One refill at a time per order: a second request while one runs is refused.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["Pending", "In progress"]),
                name="refill_one_active_per_order",
            ),
            models.UniqueConstraint(
                fields=["provider", "upstream_id"],
                condition=Q(upstream_id__isnull=False),
                name="refill_unique_upstream_id",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="refill_user_recent"),
            models.Index(
                fields=["provider", "next_poll_at"],
                condition=Q(dispatch_state="sent") & Q(status__in=["Pending", "In progress"]),
                name="refill_due_for_poll",
            ),
            # Refill success rates over a window (orders.selectors.refill_success_rates).
            models.Index(
                fields=["finished_at"],
                condition=Q(status__in=["Completed", "Rejected"]),
                name="refill_finished",
            ),
            # The escalation sweep: open refills by deadline (few: refills are rare).
            models.Index(
                fields=["deadline_at"],
                condition=Q(status__in=["Pending", "In progress"]),
                name="refill_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Refill %(id)s of order %(order)s") % {"id": self.pk, "order": self.order_id}


class CancelRequest(Dispatched):
    class Outcome(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACCEPTED = "accepted", _("Accepted by the provider")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="cancel_requests", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cancel_requests",
        verbose_name=_("user"),
    )
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="cancel_requests",
        verbose_name=_("provider"),
    )
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.WAITING, verbose_name=_("outcome")
    )
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.WEB, verbose_name=_("source")
    )

    class Meta:
        verbose_name = _("cancel request")
        verbose_name_plural = _("cancel requests")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(outcome="waiting"),
                name="cancel_one_waiting_per_order",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Cancel request %(id)s of order %(order)s") % {
            "id": self.pk,
            "order": self.order_id,
        }


class ProductOrder(Dispatched, Charged):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="product_orders",
        verbose_name=_("user"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="orders", verbose_name=_("product")
    )
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="product_orders",
        verbose_name=_("provider"),
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    require = models.TextField(blank=True, verbose_name=_("require"))
    status = models.CharField(
        max_length=16,
        choices=ProductOrderStatus.choices,
        default=ProductOrderStatus.PENDING,
        verbose_name=_("status"),
    )
    result = models.TextField(
        blank=True,
        help_text=_("What was delivered: shown to its owner only."),
        verbose_name=_("result"),
    )
    # The provider's note as it sent it, or a note of the panel's own as a code (core.memos).
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    note_code = models.CharField(max_length=48, blank=True, default="", db_default="")
    note_params = models.JSONField(blank=True, default=dict, db_default={})

    class Meta:
        verbose_name = _("product order")
        verbose_name_plural = _("product orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_ref"],
                condition=Q(client_ref__isnull=False),
                name="product_order_unique_client_ref",
            ),
            models.UniqueConstraint(
                fields=["provider", "upstream_id"],
                condition=Q(upstream_id__isnull=False),
                name="product_order_unique_upstream_id",
            ),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("charge")),
                name="product_order_refund_within_charge",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="product_order_user_recent"),
            models.Index(fields=["created_at"], name="product_order_created"),
            models.Index(fields=["updated_at"], name="product_order_updated"),
            models.Index(
                fields=["provider", "next_poll_at"],
                condition=Q(dispatch_state="sent") & Q(status__in=["Pending", "In progress"]),
                name="product_order_due_for_poll",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Product order %(id)s") % {"id": self.pk}

    @property
    def is_final(self) -> bool:
        return self.status in ProductOrderStatus.finals()

    @property
    def note_text(self) -> str:
        """The note in the reader's language: the panel's own, or the provider's as sent."""
        return memos.render(self.note_code, self.note_params, fallback=self.note)


class OrderEvent(models.Model):
    """Every status or dispatch change, and who or what made it: what admins debug from."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        API = "api", _("API")
        ADMIN = "admin", _("Admin")
        WORKER = "worker", _("Worker")
        POLLER = "poller", _("Poller")
        SWEEPER = "sweeper", _("Sweeper")

    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("order"),
    )
    # The links an event mostly leaves empty are indexed where they are set (Meta): a full index
    # took an entry for every NULL, on every event of every order placed and polled.
    product_order = models.ForeignKey(
        ProductOrder,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("product order"),
    )
    refill = models.ForeignKey(
        Refill,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("refill"),
    )
    field = models.CharField(
        max_length=32,
        help_text=_("status, dispatch, refund, cancel, refill, note"),
        verbose_name=_("field"),
    )
    old_value = models.CharField(max_length=64, blank=True, verbose_name=_("old value"))
    new_value = models.CharField(max_length=64, blank=True, verbose_name=_("new value"))
    # A person's words (an admin's note) as typed; what the panel writes is a code and its
    # parameters, put into the reader's words when shown (core.memos, orders.memos).
    message = models.CharField(max_length=500, blank=True, verbose_name=_("message"))
    message_code = models.CharField(max_length=48, blank=True, default="", db_default="")
    message_params = models.JSONField(blank=True, default=dict, db_default={})
    actor = models.CharField(max_length=16, choices=Actor.choices, verbose_name=_("actor"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("actor user"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=[name],
                condition=Q(**{f"{name}__isnull": False}),
                name=f"event_{name}_set",
            )
            for name in ("product_order", "refill", "actor_user")
        ]

    def __str__(self) -> str:
        return f"{self.field_name}: {self.old_value_name} → {self.new_value_name}"

    # An event stores the lifecycle's own words (docs/lifecycle.md); these read them out.
    @property
    def field_name(self) -> str:
        return str(EVENT_FIELD_NAMES.get(self.field, self.field))

    @property
    def old_value_name(self) -> str:
        return str(EVENT_VALUE_NAMES.get(self.field, {}).get(self.old_value, self.old_value))

    @property
    def new_value_name(self) -> str:
        return str(EVENT_VALUE_NAMES.get(self.field, {}).get(self.new_value, self.new_value))

    @property
    def message_text(self) -> str:
        """The note in the reader's language (the active one)."""
        return memos.render(self.message_code, self.message_params, fallback=self.message)


EVENT_FIELD_NAMES = {
    "status": _("Status"),
    "dispatch": _("Dispatch"),
    "refund": _("Refund"),
    "cancel": _("Cancel"),
    "refill": _("Refill"),
    "note": _("Note"),
}
EVENT_VALUE_NAMES: dict[str, dict[str, object]] = {
    "status": dict(STATUS_NAMES),
    "dispatch": dict(DispatchState.choices),
}


class PollLease(models.Model):
    """A poller's claim on a chunk of rows: their ids, until when, and the lock its round holds.

    Claiming writes nothing to the claimed rows themselves (one row here per chunk instead of an
    update of a thousand wide, many-indexed rows): other pollers' claims skip the ids of live
    leases, and the poll's write deletes its lease. When a round's process dies, the next
    holder of the same lock deletes the leases it left, so those rows are due again at once
    instead of after `until` (orders.services.polling.leases)."""

    holder = models.CharField(max_length=64, db_index=True, blank=True, verbose_name=_("holder"))
    model = models.CharField(max_length=32, verbose_name=_("model"))
    until = models.DateTimeField(verbose_name=_("until"))
    ids = models.JSONField(default=list, verbose_name=_("ids"))

    class Meta:
        verbose_name = _("poll lease")
        verbose_name_plural = _("poll leases")

    def __str__(self) -> str:
        return f"{self.holder}: {self.model} until {self.until:%H:%M:%S}"
