"""The changes a sync saw: the admin's audit trail and the public Updates page."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from providers.models.catalog import Product, Service
from providers.models.provider import Provider

# What the Updates page calls each public field and the yes/no values the catalog logs
# (providers.services.catalog.items: SERVICES/PRODUCTS public_fields, _text).
CHANGE_FIELD_NAMES = {
    "rate": _("Rate"),
    "min": _("Min"),
    "max": _("Max"),
    "refill": _("Refill"),
    "cancel": _("Cancel"),
    "in stock": _("In stock"),
}
CHANGE_VALUE_NAMES = {"yes": _("yes"), "no": _("no")}


class CatalogChange(models.Model):
    """One detected change of the catalog: the admin's audit trail and the public Updates page."""

    class Kind(models.TextChoices):
        ADDED = "added", _("Added")
        REMOVED = "removed", _("Removed")
        RESTORED = "restored", _("Back")
        CHANGED = "changed", _("Changed")

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="changes", verbose_name=_("provider")
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("service"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("product"),
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    field = models.CharField(max_length=32, blank=True, verbose_name=_("field"))
    old_value = models.CharField(max_length=500, blank=True, verbose_name=_("old value"))
    new_value = models.CharField(max_length=500, blank=True, verbose_name=_("new value"))
    is_public = models.BooleanField(
        default=True,
        help_text=_("Shown on the customers' Updates page."),
        verbose_name=_("is public"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("catalog change")
        verbose_name_plural = _("catalog changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_public", "-created_at"], name="catalog_change_public")]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False, product__isnull=True)
                | Q(service__isnull=True, product__isnull=False),
                name="catalog_change_one_item",
            )
        ]

    def __str__(self) -> str:
        field = CHANGE_FIELD_NAMES.get(self.field, self.field)
        return f"{self.get_kind_display()} {field}".strip()
