"""An order's history, and the poller's leases."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import memos
from core.db.partitions import PeriodField
from orders.models.base import (
    STATUS_NAMES,
    DispatchState,
)
from orders.models.order import Order, Refill
from orders.models.product import ProductOrder


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
    # The month of the order, product order or refill it is about (YYYYMM, 0 before
    # partitioning; core.db.partitions): the table is partitioned by it, so an order's history
    # lives in its month's partition and is archived with it (docs/scaling.md). The primary key
    # is (id, period) in the database. No default: the database reads it from the subject's id
    # (orders.lifecycle.events), as the ledger's, so no process's clock puts an event in the
    # neighbouring month.
    period = PeriodField(editable=False, verbose_name=_("period"))

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
    # Where a round's sweep has claimed up to, at one provider: its next claim starts after the
    # last row of the newest lease instead of walking past every row the live leases hold
    # (orders.services.polling.leases). Empty for a claim of named rows (a webhook's hint).
    provider_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("provider"))
    after_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed up to"))
    after_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("claimed up to id"))

    class Meta:
        verbose_name = _("poll lease")
        verbose_name_plural = _("poll leases")

    def __str__(self) -> str:
        # In the panel's time zone, as the admin shows every other time.
        until = f"{localtime(self.until):%H:%M:%S}"
        values = {"holder": self.holder, "model": self.model, "time": until}
        return gettext("%(holder)s: %(model)s until %(time)s") % values
