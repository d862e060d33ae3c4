"""Selling prices recomputed after a markup or exchange-rate change, and the on-sale switch."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from providers.models import (
    CatalogChange,
    Category,
    Product,
    Provider,
    Service,
)
from providers.services.catalog.items import (
    PRODUCTS,
    SERVICES,
    UPDATE_BATCH,
    ItemSpec,
    Pricing,
    change_row,
)
from providers.services.routes import routes_refresh


def _reprice_queryset(spec: ItemSpec, items: QuerySet, pricing: Pricing, now: datetime) -> int:
    updates, changes = [], []
    for item in items.filter(is_rate_pinned=False):
        new_rate = pricing.rate_for(item)
        if new_rate != item.rate:
            changes.append(
                change_row(spec, item, CatalogChange.Kind.CHANGED, now, "rate", item.rate, new_rate)
            )
            item.rate, item.updated_at = new_rate, now
            updates.append(item)
    spec.model.objects.bulk_update(updates, ["rate", "updated_at"], batch_size=UPDATE_BATCH)
    CatalogChange.objects.bulk_create(changes)
    return len(updates)


def catalog_reprice(
    *,
    provider: Provider | None = None,
    category: Category | None = None,
    service_ids: Iterable[int] | None = None,
    product_ids: Iterable[int] | None = None,
) -> int:
    """Recompute selling rates after a markup or exchange-rate change; returns how many changed.

    With neither id list, reprices services and products alike; the provider and category
    narrow the scope. Pinned prices are left alone. Every price that moves is logged.
    """
    scopes: list[tuple[ItemSpec, QuerySet]] = []
    if service_ids is not None:
        scopes.append((SERVICES, Service.objects.filter(pk__in=list(service_ids))))
    if product_ids is not None:
        scopes.append((PRODUCTS, Product.objects.filter(pk__in=list(product_ids))))
    if not scopes:
        scopes = [(SERVICES, Service.objects.all()), (PRODUCTS, Product.objects.all())]
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        pricing = Pricing(Provider.objects.all())
        for spec, items in scopes:
            if provider is not None:
                items = items.filter(provider=provider)
            if category is not None:
                items = items.filter(category=category)
            changed += _reprice_queryset(spec, items, pricing, now)
        routes_refresh(provider=provider, now=now)  # selling prices moved: so did margins
    return changed


def catalog_set_on_sale(*, items: QuerySet, on_sale: bool) -> int:
    """Put services or products on sale or take them off (an admin's choice, kept across syncs)."""
    return items.exclude(is_enabled=on_sale).update(is_enabled=on_sale, updated_at=timezone.now())
