"""The unique keys of orders that hold across every month's partition (docs/scaling.md,
"Monthly partitions").

Orders are partitioned by id, and PostgreSQL holds a unique index of a partitioned table only
if it contains the partition key, so these keys live here, one row per order that holds one,
written by triggers on the orders table in the same statement as the order
(core.db.partitions.keys): a replay or a race meets the unique index of its key, under the name
it always had, and waits for the other transaction as it did. Nothing writes these rows but
those triggers; they exist as models so that tests' flushes empty them with the orders. An
archived month's client references stay (panel.archive): the key outlives its order.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.base import ONE_OPEN_ORDER_PER_LINK


class OrderClientRef(models.Model):
    """A reseller's client reference, once per user: a retried `add` gets its first order, even
    one of an archived month (ArchivedOrder)."""

    order_id = models.BigIntegerField(primary_key=True, verbose_name=_("order ID"))
    user_id = models.BigIntegerField(verbose_name=_("user ID"))
    client_ref = models.CharField(max_length=64, verbose_name=_("client ref"))

    class Meta:
        verbose_name = _("order client reference")
        verbose_name_plural = _("order client references")
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "client_ref"], name="order_unique_client_ref"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.client_ref}"


class OrderUpstreamId(models.Model):
    """The provider's id of an order, once per provider: what later proves the purchase."""

    order_id = models.BigIntegerField(primary_key=True, verbose_name=_("order ID"))
    provider_id = models.BigIntegerField(verbose_name=_("provider ID"))
    upstream_id = models.CharField(max_length=64, verbose_name=_("upstream ID"))

    class Meta:
        verbose_name = _("order upstream ID")
        verbose_name_plural = _("order upstream IDs")
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id", "upstream_id"], name="order_unique_upstream_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}: {self.upstream_id}"


class OrderOpenLink(models.Model):
    """A link with an open order of a service that allows one at a time; the row leaves when
    the order is final, which frees the link."""

    order_id = models.BigIntegerField(primary_key=True, verbose_name=_("order ID"))
    service_id = models.BigIntegerField(verbose_name=_("service ID"))
    link_key = models.CharField(max_length=64, verbose_name=_("link key"))

    class Meta:
        verbose_name = _("order open link")
        verbose_name_plural = _("order open links")
        constraints = [
            models.UniqueConstraint(fields=["service_id", "link_key"], name=ONE_OPEN_ORDER_PER_LINK)
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.link_key}"


class ArchivedOrder(models.Model):
    """An order of an archived month (panel.archive), written in the transaction that drops
    it: whose it was, so that its page answers its owner alone. Its client_ref stays in
    OrderClientRef, so a retried `add` still meets the key and answers this order's id."""

    order_id = models.BigIntegerField(primary_key=True, verbose_name=_("order ID"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("user"),
    )
    period = models.IntegerField(verbose_name=_("period"))

    class Meta:
        verbose_name = _("archived order")
        verbose_name_plural = _("archived orders")

    def __str__(self) -> str:
        return f"{self.order_id} ({self.period})"
