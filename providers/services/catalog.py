"""Catalog import and sync: one bulk upsert per provider, selling rates from markup rules, a change
log, and vanished items disabled (never deleted, since orders point at them)."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.money import money_str
from providers.client import UpstreamProduct, UpstreamService
from providers.errors import ProviderRejected
from providers.markup import Markup, effective_markup, rule_at, selling_rate
from providers.models import (
    CatalogChange,
    CatalogItem,
    Category,
    Product,
    Provider,
    Service,
    ServiceType,
)
from providers.services.provider import provider_client
from providers.services.routes import routes_refresh

logger = logging.getLogger(__name__)

UNCATEGORISED = "Other"
_UPDATE_BATCH = 500  # bulk_update builds one CASE per field; small batches keep it linear
_KNOWN_SERVICE_TYPES = frozenset(ServiceType.values)


@dataclass(frozen=True)
class ItemSpec:
    """How one kind of catalog item maps from the upstream answer to its model."""

    model: type[Service] | type[Product]
    change_field: str  # the CatalogChange foreign key
    fields: dict[str, str]  # model field -> upstream attribute
    public_fields: dict[str, str]  # model field -> the label customers see on the Updates page
    quiet_fields: frozenset[str] = frozenset()  # updated, never logged (inventory moves constantly)


SERVICES = ItemSpec(
    model=Service,
    change_field="service",
    fields={
        "name": "name",
        "type": "type",
        "upstream_rate": "rate",
        "min": "min",
        "max": "max",
        "has_refill": "refill",
        "has_cancel": "cancel",
        "has_dripfeed": "dripfeed",
        "description": "description",
    },
    public_fields={
        "rate": "rate",
        "min": "min",
        "max": "max",
        "has_refill": "refill",
        "has_cancel": "cancel",
    },
)
PRODUCTS = ItemSpec(
    model=Product,
    change_field="product",
    fields={
        "name": "name",
        "type": "type",
        "upstream_rate": "rate",
        "min": "min",
        "max": "max",
        "require": "require",
        "stock_status": "stock_status",
        "is_in_stock": "is_in_stock",
        "inventory": "inventory",
    },
    public_fields={"rate": "rate", "min": "min", "max": "max", "is_in_stock": "in stock"},
    quiet_fields=frozenset({"inventory", "stock_status"}),
)


@dataclass
class ItemCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    restored: int = 0
    unchanged: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.restored} back, {self.unchanged} unchanged, {self.skipped} skipped"
        )


@dataclass
class SyncSummary:
    provider: str
    services: ItemCounts = field(default_factory=ItemCounts)
    products: ItemCounts | None = None

    def __str__(self) -> str:
        products = str(self.products) if self.products is not None else "not offered"
        return f"{self.provider}: services {self.services}; products {products}"


class _Pricing:
    """Markup rules and exchange rates loaded once, so pricing 10,000 items costs no queries."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers = {
            p.pk: (rule_at(p.markup_percent, p.markup_fixed), p.exchange_rate) for p in providers
        }
        self.categories: dict[int, Markup | None] = {}
        self.category_names: dict[int, str] = {}
        self.add_categories(Category.objects.all())

    def add_categories(self, categories: Iterable[Category]) -> None:
        for category in categories:
            self.categories[category.pk] = rule_at(category.markup_percent, category.markup_fixed)
            self.category_names[category.pk] = category.name

    def markup_for(self, item: Service | Product) -> Markup:
        provider_rule, _ = self.providers[item.provider_id]
        return effective_markup(
            rule_at(item.markup_percent, item.markup_fixed),
            self.categories.get(item.category_id),
            provider_rule,
        )

    def rate_for(self, item: Service | Product) -> Decimal:
        if item.is_rate_pinned:
            return item.rate
        _, exchange_rate = self.providers[item.provider_id]
        return selling_rate(
            upstream_rate=item.upstream_rate,
            exchange_rate=exchange_rate,
            markup=self.markup_for(item),
        )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return money_str(value)
    return "" if value is None else str(value)[:500]


def _change(
    spec: ItemSpec,
    item: CatalogItem,
    kind: str,
    now: datetime,
    name: str = "",
    old: object = "",
    new: object = "",
    *,
    is_public: bool = True,
) -> CatalogChange:
    return CatalogChange(
        provider_id=item.provider_id,
        **{spec.change_field: item},
        kind=kind,
        field=name,
        old_value=_text(old),
        new_value=_text(new),
        is_public=is_public,
        created_at=now,
    )


def _ensure_categories(names: set[str]) -> dict[str, Category]:
    names = {name[:255] for name in names}
    found = {c.name: c for c in Category.objects.filter(name__in=names)}
    missing = names - found.keys()
    if missing:
        Category.objects.bulk_create(
            [Category(name=name) for name in sorted(missing)], ignore_conflicts=True
        )
        found.update({c.name: c for c in Category.objects.filter(name__in=missing)})
    return found


def _upstream_values(
    spec: ItemSpec, upstream: UpstreamService | UpstreamProduct
) -> dict[str, object]:
    return {model_field: getattr(upstream, attr) for model_field, attr in spec.fields.items()}


def _log_diffs(
    spec: ItemSpec, item: CatalogItem, diffs: list[tuple[str, object, object]], now: datetime
) -> list[CatalogChange]:
    return [
        _change(
            spec,
            item,
            CatalogChange.Kind.CHANGED,
            now,
            spec.public_fields.get(name, name),
            old,
            new,
            is_public=name in spec.public_fields,
        )
        for name, old, new in diffs
        if name not in spec.quiet_fields
    ]


@dataclass
class _SyncPlan:
    """What one sync pass writes: new rows, changed rows (and which fields), and the change log."""

    counts: ItemCounts = field(default_factory=ItemCounts)
    # Services or Products, as spec.model says; the managers of the union take either.
    creates: list[Any] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)
    updated_fields: set[str] = field(default_factory=set)
    changes: list[CatalogChange] = field(default_factory=list)


def _sync_items(
    spec: ItemSpec,
    provider: Provider,
    upstream_items: Sequence[UpstreamService | UpstreamProduct],
    categories: dict[str, Category],
    pricing: _Pricing,
    now: datetime,
) -> ItemCounts:
    plan = _SyncPlan()
    existing = {item.upstream_id: item for item in spec.model.objects.filter(provider=provider)}
    seen: set[str] = set()
    for upstream in upstream_items:
        if upstream.upstream_id in seen or (
            spec.model is Service and upstream.type not in _KNOWN_SERVICE_TYPES
        ):
            plan.counts.skipped += 1
            continue
        seen.add(upstream.upstream_id)
        values = _upstream_values(spec, upstream)
        category = categories[(upstream.category or UNCATEGORISED)[:255]]
        item = existing.pop(upstream.upstream_id, None)
        if item is None:
            item = spec.model(
                provider=provider,
                upstream_id=upstream.upstream_id,
                category=category,
                is_enabled=provider.new_items_on_sale,
                rate=Decimal(0),
                **values,
            )
            item.rate = pricing.rate_for(item)
            plan.creates.append(item)
        else:
            _plan_update(plan, spec, item, values, category, pricing, now)

    vanished = [item for item in existing.values() if item.is_available]
    plan.counts.added, plan.counts.removed = len(plan.creates), len(vanished)
    _write_plan(plan, spec, vanished, now)
    return plan.counts


def _apply_values(
    item: Service | Product,
    values: dict[str, object],
    category: Category,
    pricing: _Pricing,
) -> list[tuple[str, object, object]]:
    """Set the upstream values, category and selling rate on an existing item; return the diffs."""
    diffs = [
        (name, getattr(item, name), value)
        for name, value in values.items()
        if getattr(item, name) != value
    ]
    if item.category_id != category.pk:
        diffs.append(("category", pricing.category_names.get(item.category_id, ""), category.name))
        item.category = category
    for name, _, value in diffs:
        if name != "category":
            setattr(item, name, value)
    new_rate = pricing.rate_for(item)
    if new_rate != item.rate:
        diffs.append(("rate", item.rate, new_rate))
        item.rate = new_rate
    return diffs


def _plan_update(
    plan: _SyncPlan,
    spec: ItemSpec,
    item: Service | Product,
    values: dict[str, object],
    category: Category,
    pricing: _Pricing,
    now: datetime,
) -> None:
    """Bring an item the provider still lists up to date: restored, changed or unchanged."""
    diffs = _apply_values(item, values, category, pricing)
    if not item.is_available:
        item.is_available, item.removed_at = True, None
        plan.updated_fields.update({"is_available", "removed_at"})
        plan.changes.append(_change(spec, item, CatalogChange.Kind.RESTORED, now))
        plan.counts.restored += 1
    elif diffs:
        plan.counts.changed += 1
    else:
        plan.counts.unchanged += 1
        return
    plan.updated_fields.update(name for name, _, _ in diffs)
    plan.changes.extend(_log_diffs(spec, item, diffs, now))
    plan.updates.append(item)


def _write_plan(
    plan: _SyncPlan, spec: ItemSpec, vanished: Sequence[Service | Product], now: datetime
) -> None:
    """Write the plan in bulk: inserts, updates, vanished items taken off sale, the change log."""
    changes = plan.changes
    if plan.creates:
        spec.model.objects.bulk_create(plan.creates, batch_size=_insert_batch_size())
        changes.extend(_change(spec, item, CatalogChange.Kind.ADDED, now) for item in plan.creates)
    if plan.updates:
        for item in plan.updates:
            item.updated_at = now  # bulk_update skips auto_now; the catalog version reads this
        spec.model.objects.bulk_update(
            plan.updates, sorted(plan.updated_fields | {"updated_at"}), batch_size=_UPDATE_BATCH
        )
    if vanished:
        spec.model.objects.filter(pk__in=[item.pk for item in vanished]).update(
            is_available=False, removed_at=now, updated_at=now
        )
        changes.extend(_change(spec, item, CatalogChange.Kind.REMOVED, now) for item in vanished)
    if changes:
        CatalogChange.objects.bulk_create(changes, batch_size=_insert_batch_size())


def _insert_batch_size() -> int | None:
    # PostgreSQL takes any number of rows in one INSERT; SQLite caps variables per statement.
    return None if connection.vendor == "postgresql" else 500


def catalog_sync(*, provider: Provider) -> SyncSummary:
    """Import the provider's services and products and bring the catalog in line with them.

    Upstream calls happen before the transaction; the writes are one transaction holding the
    provider row, so two syncs of one provider take turns. Raises the client's ProviderError.
    """
    client = provider_client(provider)
    upstream_services = client.services()
    try:
        upstream_products: list[UpstreamProduct] | None = client.products()
    except ProviderRejected:
        upstream_products = None  # a provider without products answers the action with an error
    now = timezone.now()
    summary = SyncSummary(provider=provider.name)
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        names = {(item.category or UNCATEGORISED) for item in upstream_services}
        names |= {(item.category or UNCATEGORISED) for item in upstream_products or ()}
        categories = _ensure_categories(names)
        pricing = _Pricing([provider])
        pricing.add_categories(categories.values())
        summary.services = _sync_items(
            SERVICES, provider, upstream_services, categories, pricing, now
        )
        if upstream_products is not None:
            summary.products = _sync_items(
                PRODUCTS, provider, upstream_products, categories, pricing, now
            )
        routes_refresh(provider=provider, now=now)
        Provider.objects.filter(pk=provider.pk).update(last_synced_at=now, last_error="")
    logger.info("catalog sync %s", summary)
    return summary


def _reprice_queryset(spec: ItemSpec, items: QuerySet, pricing: _Pricing, now: datetime) -> int:
    updates, changes = [], []
    for item in items.filter(is_rate_pinned=False):
        new_rate = pricing.rate_for(item)
        if new_rate != item.rate:
            changes.append(
                _change(spec, item, CatalogChange.Kind.CHANGED, now, "rate", item.rate, new_rate)
            )
            item.rate, item.updated_at = new_rate, now
            updates.append(item)
    spec.model.objects.bulk_update(updates, ["rate", "updated_at"], batch_size=_UPDATE_BATCH)
    CatalogChange.objects.bulk_create(changes, batch_size=_insert_batch_size())
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
        pricing = _Pricing(Provider.objects.all())
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
