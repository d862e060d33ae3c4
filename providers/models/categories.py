"""The categories the catalog's services and products are listed under."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from providers.models.types import percent_field, text_in
from providers.platforms import Platform


class Category(models.Model):
    # The provider's name is the key the sync finds the category by: renaming it would make the
    # next sync create the category again and move its services back (the operator's names are
    # name_vi / name_en, which no sync touches). Unique per panel (the constraint below).
    name = models.CharField(
        max_length=255,
        help_text=_("As the provider names it; the sync matches by it."),
        verbose_name=_("name"),
    )
    # A child panel's categories are its own (its markup rules, its order), beside the
    # parent's of the same name; empty: the parent's.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="categories",
        verbose_name=_("child panel"),
    )
    name_vi = models.CharField(
        _("name in Vietnamese"),
        max_length=255,
        blank=True,
        help_text=_("Shown to Vietnamese readers; empty: the provider's name."),
    )
    name_en = models.CharField(
        _("name in English"),
        max_length=255,
        blank=True,
        help_text=_("Shown to English readers; empty: the provider's name."),
    )
    platform = models.CharField(
        max_length=16,
        choices=Platform.choices,
        default=Platform.OTHER,
        db_default=Platform.OTHER,
        editable=False,
        verbose_name=_("detected platform"),
        help_text=_("Detected from the provider's name at each sync."),
    )
    platform_override = models.CharField(
        _("platform"),
        max_length=16,
        choices=Platform.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("Your choice; empty: the one detected from the name."),
    )
    sort_order = models.IntegerField(default=0, verbose_name=_("sort order"))
    markup_percent = percent_field(
        null=True,
        blank=True,
        help_text=_("Overrides the provider markup for this category."),
        verbose_name=_("markup percent"),
    )
    markup_fixed = money_field(null=True, blank=True, verbose_name=_("markup fixed"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("category")
        ordering = ["sort_order", "name"]
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                "name", "child_panel", nulls_distinct=False, name="category_name_unique_per_panel"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return text_in(language, default=self.name, vi=self.name_vi, en=self.name_en)

    @property
    def shown_platform(self) -> str:
        return self.platform_override or self.platform
