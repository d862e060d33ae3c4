"""The admin dashboard's daily rollup and the daily report's record.

Rollup rows hold plain ids, not foreign keys: they are rebuilt wholesale per day by
panel.dashboard.rollup and must never block deleting or protecting the rows they count.
"""

from django.db import models

from core.money import ZERO, money_field


class DayFigures(models.Model):
    """Orders (or product orders) of one day in TIME_ZONE, one row per kind and status.

    `revenue` is charges net of refunds; `cost` counts only what was bought upstream (sent and
    not canceled), see panel.dashboard.figures.
    """

    class Kind(models.TextChoices):
        ORDER = "order", "Order"
        PRODUCT = "product", "Product order"

    day = models.DateField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=16)
    orders = models.PositiveIntegerField(default=0)
    revenue = money_field(default=ZERO)
    cost = money_field(default=ZERO)

    class Meta:
        # The dashboard is a page of its own, guarded by this permission (see panel.dashboard).
        default_permissions = ()
        permissions = [("view_dashboard", "Can view the admin dashboard")]
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "status"], name="day_figures_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.status}"


class DayServiceFigures(models.Model):
    """Orders of one day per service and the route (provider) they took."""

    day = models.DateField()
    service_id = models.BigIntegerField()
    provider_id = models.BigIntegerField()
    route_id = models.BigIntegerField(default=0, help_text="0: the service's own provider.")
    orders = models.PositiveIntegerField(default=0)
    revenue = money_field(default=ZERO)
    cost = money_field(default=ZERO)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_id", "provider_id", "route_id"],
                name="day_service_figures_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} service {self.service_id}"


class DayCustomerFigures(models.Model):
    """Orders and product orders of one day per customer."""

    day = models.DateField()
    user_id = models.BigIntegerField()
    orders = models.PositiveIntegerField(default=0)
    revenue = money_field(default=ZERO)
    cost = money_field(default=ZERO)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "user_id"], name="day_customer_figures_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} user {self.user_id}"


class RollupState(models.Model):
    """One row: how far the rollup has read order changes (`updated_at`)."""

    rolled_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"rolled until {self.rolled_until}"


class DailyReport(models.Model):
    """The midnight report of one day: its row makes sending it exactly once per day."""

    day = models.DateField(unique=True)
    body = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"Report of {self.day}"
