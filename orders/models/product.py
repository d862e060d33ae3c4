"""An order of a digital product."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import memos
from orders.models.base import Charged, Dispatched
from providers.models import Product, Provider
from providers.statuses import ProductOrderStatus


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
