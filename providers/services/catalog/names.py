"""The operator's words for the catalog: category names per language and each category's
platform. Kept apart from what the sync imports (the provider's names), so a sync never
undoes them (catalog.sync finds categories by the provider's name)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from providers.models import Category
from providers.platforms import Platform


@dataclass(frozen=True)
class CategoryWords:
    """One category's names per language and platform as the operator wants them; empty names
    fall back to the provider's, an empty platform to the detected one."""

    category_id: int
    name_vi: str
    name_en: str
    platform_override: str


_FIELDS = ("name_vi", "name_en", "platform_override")


def category_words_update(*, rows: Iterable[CategoryWords]) -> int:
    """Write the rows that differ from what is stored, in one statement; returns how many
    changed. Unknown ids and platforms are skipped (a row deleted or a choice removed since
    the page was shown)."""
    wanted = {row.category_id: row for row in rows if row.platform_override in ("", *Platform)}
    now = timezone.now()
    changed = []
    with transaction.atomic():
        for category in Category.objects.select_for_update().filter(pk__in=wanted).order_by("pk"):
            row = wanted[category.pk]
            values = {
                "name_vi": row.name_vi.strip()[:255],
                "name_en": row.name_en.strip()[:255],
                "platform_override": row.platform_override,
            }
            if all(getattr(category, name) == value for name, value in values.items()):
                continue
            for name, value in values.items():
                setattr(category, name, value)
            category.updated_at = now  # bulk_update skips auto_now; the catalog version reads it
            changed.append(category)
        Category.objects.bulk_update(changed, [*_FIELDS, "updated_at"])
    return len(changed)
