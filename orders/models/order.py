"""An order, its refills and its cancel requests."""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field
from orders.models.base import Charged, Dispatched, Source
from providers.models import Provider, RefillEscalation, Service, ServiceRoute
from providers.statuses import OrderStatus, RefillStatus


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
            # (user, client_ref), (provider, upstream_id) and one open order per link are unique
            # across every month's partition: PostgreSQL cannot hold them on a table partitioned
            # by id, so they live in tables of their own (orders.models.keys).
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("charge")),
                name="order_refund_within_charge",
            ),
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_not_negative"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user_recent"),
            # A customer's list on one status tab. Not the Completed tab, which holds most of a
            # customer's orders and is read through order_user_recent: a poll's write that
            # completes an order then inserts into one index fewer (docs/performance.md, "A
            # million polled orders, fifth pass").
            models.Index(
                fields=["user", "status", "-id"],
                condition=~Q(status="Completed"),
                name="order_user_status",
            ),
            # The rollup's placed and changed orders, date filters. BRIN, not B-tree: no poll
            # write can be HOT, so each write of an order inserts into every index, and a BRIN
            # insert writes almost no WAL and costs the update about half a B-tree's CPU. Both
            # times stay within the month of a partition's ids, so a range query skips the
            # other months whole; nothing sorts orders by them (lists go by id).
            # docs/performance.md, "The order row's indexes".
            BrinIndex(fields=["created_at"], name="order_created_brin", pages_per_range=32),
            BrinIndex(fields=["updated_at"], name="order_updated_brin", pages_per_range=32),
            models.Index(
                fields=["provider", "next_poll_at", "id"],
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
