"""Catalog sync: one bulk upsert per provider, selling rates from markup rules, a change log,
vanished items taken off sale (never deleted, since orders point at them, and never re-priced),
and the margin guard's holds (catalog.guard) with one staff digest per sync that held anything."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.db import transaction
from django.utils import timezone

from core.db.bulk import bulk_insert_instances, bulk_insert_like
from core.money import quantize_money
from core.tenancy import panel_scope
from providers.client import UpstreamProduct, UpstreamService
from providers.errors import ProviderRejected
from providers.models import (
    CatalogChange,
    CatalogItem,
    Category,
    HoldReason,
    Product,
    Provider,
    Service,
    ServiceType,
)
from providers.platforms import platform_detect
from providers.services.catalog.guard import MarginFloor, margin_floor
from providers.services.catalog.holds import alert_held
from providers.services.catalog.items import (
    PRODUCTS,
    SERVICES,
    UPDATE_BATCH,
    ItemCounts,
    ItemSpec,
    Pricing,
    SyncSummary,
    change_row,
)
from providers.services.provider import provider_client
from providers.services.routes import routes_refresh

logger = logging.getLogger(__name__)

UNCATEGORISED = "Other"
LOAD_BATCH = 10_000
_KNOWN_SERVICE_TYPES = frozenset(ServiceType.values)


def _ensure_categories(names: set[str], child_panel_id: int | None) -> dict[str, Category]:
    """The categories named `names` of the panel the provider sells to (a child panel's are its
    own, beside the parent's of the same name), created where missing. Found by the provider's
    name, which the operator never edits: their own names (name_vi, name_en) and platform
    choice (platform_override) are not touched here, so they outlive every sync. The detected
    platform follows the detection rules as they are now."""
    names = {name[:255] for name in names}
    mine = Category.objects.filter(child_panel_id=child_panel_id)
    found = {c.name: c for c in mine.filter(name__in=names)}
    missing = names - found.keys()
    if missing:
        Category.objects.bulk_create(
            [
                Category(name=name, child_panel_id=child_panel_id, platform=platform_detect(name))
                for name in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found.update({c.name: c for c in mine.filter(name__in=missing)})
    redetected = [c for c in found.values() if c.platform != platform_detect(c.name)]
    for category in redetected:
        category.platform, category.updated_at = platform_detect(category.name), timezone.now()
    if redetected:
        Category.objects.bulk_update(redetected, ["platform", "updated_at"])
    return found


def _upstream_values(
    spec: ItemSpec, upstream: UpstreamService | UpstreamProduct
) -> dict[str, object]:
    return {model_field: getattr(upstream, attr) for model_field, attr in spec.fields.items()}


def _log_diffs(
    spec: ItemSpec, item: CatalogItem, diffs: list[tuple[str, object, object]], now: datetime
) -> list[CatalogChange]:
    return [
        change_row(
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
    held: list[Any] = field(default_factory=list)  # newly held by the margin guard
    # New items the guard does not hold, as field values: no model instance each.
    new_rows: list[dict[str, object]] = field(default_factory=list)


_HOLD_FIELDS = ("hold_reason", "held_at", "held_from_cost")


def _hold(
    plan: _SyncPlan,
    spec: ItemSpec,
    item: CatalogItem,
    reason: str,
    old_cost: Decimal | None,
    now: datetime,
) -> None:
    """Hold `item` for an operator: off sale, its price left as it was, the reason stored."""
    item.hold_reason, item.held_at = reason, now
    item.held_from_cost = None if old_cost is None else quantize_money(old_cost)
    plan.held.append(item)
    plan.counts.held += 1
    if item.pk is not None:  # a new item's row is logged as added; its hold is on the row
        plan.updated_fields.update(_HOLD_FIELDS)
        plan.changes.append(
            change_row(
                spec, item, CatalogChange.Kind.CHANGED, now, "hold", "", reason, is_public=False
            )
        )


def _sync_items(
    spec: ItemSpec,
    provider: Provider,
    upstream_items: Sequence[UpstreamService | UpstreamProduct],
    categories: dict[str, Category],
    pricing: Pricing,
    floor: MarginFloor,
    now: datetime,
) -> tuple[ItemCounts, list[Any]]:
    plan = _SyncPlan()
    # The stored items as plain rows: most of a sync's items are unchanged, and telling so from
    # a row costs a fraction of building its model instance. Only the others are loaded whole.
    stored = {
        row.upstream_id: row
        for row in spec.model.objects.filter(provider=provider).values_list(
            *_stored_fields(spec), named=True
        )
    }
    seen: set[str] = set()
    moved: list[tuple[int, dict[str, object], Category]] = []
    for upstream in upstream_items:
        if upstream.upstream_id in seen or (
            spec.model is Service and upstream.type not in _KNOWN_SERVICE_TYPES
        ):
            plan.counts.skipped += 1
            continue
        seen.add(upstream.upstream_id)
        values = _upstream_values(spec, upstream)
        category = categories[(upstream.category or UNCATEGORISED)[:255]]
        row = stored.pop(upstream.upstream_id, None)
        if row is None:
            _plan_new(
                plan, spec, provider, upstream.upstream_id, values, category, pricing, floor, now
            )
        elif _is_unchanged(row, values, category, pricing):
            plan.counts.unchanged += 1
        else:
            moved.append((row.pk, values, category))

    items = _load_items(spec, [pk for pk, _, _ in moved] + [row.pk for row in stored.values()])
    for pk, values, category in moved:
        _plan_update(plan, spec, items[pk], values, category, pricing, floor, now)
    # Taken off sale as they are: the price stays what it was (never 0), and coming back holds
    # them until an operator approves (_plan_update).
    vanished = [items[row.pk] for row in stored.values() if row.is_available]
    plan.counts.added = len(plan.creates) + len(plan.new_rows)
    plan.counts.removed = len(vanished)
    _write_plan(plan, spec, provider, vanished, now)
    return plan.counts, plan.held


class _NewItem(NamedTuple):
    """What pricing reads of an item not stored yet: no markup of its own, not pinned."""

    provider_id: int
    category_id: int
    upstream_rate: Decimal
    markup_percent: Decimal | None = None
    markup_fixed: Decimal | None = None
    is_rate_pinned: bool = False
    rate: Decimal = Decimal(0)


def _plan_new(
    plan: _SyncPlan,
    spec: ItemSpec,
    provider: Provider,
    upstream_id: str,
    values: dict[str, object],
    category: Category,
    pricing: Pricing,
    floor: MarginFloor,
    now: datetime,
) -> None:
    """A new item: a row of values to insert, or, when the margin guard holds it (rare), a
    model instance, which the hold and the staff digest need."""
    new = _NewItem(provider.pk, category.pk, cast(Decimal, values["upstream_rate"]))
    rate = pricing.rate_for(new)
    reason = floor.hold_for_new(rate=rate, cost=pricing.cost_of(new))
    if not reason:
        plan.new_rows.append(
            {"upstream_id": upstream_id, "category_id": category.pk, "rate": rate, **values}
        )
        return
    item = spec.model(
        provider=provider,
        upstream_id=upstream_id,
        category=category,
        is_enabled=provider.new_items_on_sale,
        rate=rate,
        **values,
    )
    _hold(plan, spec, item, reason, None, now)
    plan.creates.append(item)


_PRICING_FIELDS = (
    "pk",
    "upstream_id",
    "provider_id",
    "category_id",
    "is_available",
    "hold_reason",
    "rate",
    "is_rate_pinned",
    "markup_percent",
    "markup_fixed",
)


def _stored_fields(spec: ItemSpec) -> list[str]:
    return [*_PRICING_FIELDS, *(name for name in spec.fields if name not in _PRICING_FIELDS)]


def _is_unchanged(
    row: Any, values: dict[str, object], category: Category, pricing: Pricing
) -> bool:
    """What _plan_update would find unchanged, told from the stored row: on sale, the same
    upstream values and category, and the price the markup rules give (or held, when the price
    waits for an operator whatever the rules say)."""
    if not row.is_available or row.category_id != category.pk:
        return False
    if any(getattr(row, name) != value for name, value in values.items()):
        return False
    return bool(row.hold_reason) or pricing.rate_for(row) == row.rate


def _load_items(spec: ItemSpec, pks: list[int]) -> dict[int, Any]:
    """The model instances of `pks`, read in parts (one statement takes at most 65,535
    parameters)."""
    items: dict[int, Any] = {}
    for start in range(0, len(pks), LOAD_BATCH):
        items.update(spec.model.objects.in_bulk(pks[start : start + LOAD_BATCH]))
    return items


def _apply_values(
    item: Service | Product,
    values: dict[str, object],
    category: Category,
    pricing: Pricing,
    hold: Callable[[], bool],
) -> list[tuple[str, object, object]]:
    """Set the upstream values, category and selling rate on an existing item; return the diffs.

    `hold()`, asked once the upstream values are set and before the rate moves, says whether
    the margin guard holds the item: a held item keeps its selling price until an operator
    resolves the hold."""
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
    if not hold() and new_rate != item.rate:
        diffs.append(("rate", item.rate, new_rate))
        item.rate = new_rate
    return diffs


def _plan_update(
    plan: _SyncPlan,
    spec: ItemSpec,
    item: Service | Product,
    values: dict[str, object],
    category: Category,
    pricing: Pricing,
    floor: MarginFloor,
    now: datetime,
) -> None:
    """Bring an item the provider still lists up to date: restored, changed or unchanged; held
    when the margin guard says so (catalog.guard)."""
    old_cost, old_upstream_rate = pricing.cost_of(item), item.upstream_rate
    reason = ""

    def hold() -> bool:
        nonlocal reason
        if item.hold_reason:
            return True  # already waiting for an operator: the price stays until they decide
        if not item.is_available:
            reason = HoldReason.RESTORED
        elif item.upstream_rate != old_upstream_rate:
            # At the price customers pay now (item.rate is not moved yet): a cost that eats the
            # margin waits for an operator to approve the new price, rather than the customers
            # finding it changed (or the panel selling at a loss until the next sync).
            reason = floor.hold_for(
                item=item, rate=item.rate, cost=pricing.cost_of(item), old_cost=old_cost
            )
        return bool(reason)

    diffs = _apply_values(item, values, category, pricing, hold)
    if reason:
        _hold(plan, spec, item, reason, old_cost, now)
    if not item.is_available:
        item.is_available, item.removed_at = True, None
        plan.updated_fields.update({"is_available", "removed_at"})
        plan.changes.append(change_row(spec, item, CatalogChange.Kind.RESTORED, now))
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
    plan: _SyncPlan,
    spec: ItemSpec,
    provider: Provider,
    vanished: Sequence[Service | Product],
    now: datetime,
) -> None:
    """Write the plan in bulk: inserts, updates, vanished items taken off sale, the change log
    (in that order: changes of existing items, then added, then removed)."""
    bulk_insert_instances(plan.creates)
    # Every new row is this item with its own values: the defaults and timestamps once.
    template = spec.model(provider=provider, is_enabled=provider.new_items_on_sale)
    added = bulk_insert_like(template, plan.new_rows)
    if plan.updates:
        for item in plan.updates:
            item.updated_at = now  # bulk_update skips auto_now; the catalog version reads this
        spec.model.objects.bulk_update(
            plan.updates, sorted(plan.updated_fields | {"updated_at"}), batch_size=UPDATE_BATCH
        )
    changes = plan.changes
    changes.extend(change_row(spec, item, CatalogChange.Kind.ADDED, now) for item in plan.creates)
    bulk_insert_instances(changes)
    added_change = CatalogChange(provider=provider, kind=CatalogChange.Kind.ADDED, created_at=now)
    bulk_insert_like(added_change, [{f"{spec.change_field}_id": pk} for pk in added])
    if vanished:
        spec.model.objects.filter(pk__in=[item.pk for item in vanished]).update(
            is_available=False, removed_at=now, updated_at=now
        )
        bulk_insert_instances(
            [change_row(spec, item, CatalogChange.Kind.REMOVED, now) for item in vanished]
        )


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
    # A child panel's prices are in its own currency: its selling rates are rounded as that
    # currency is written (whole đồng), whoever runs the sync.
    child = provider.child_panel
    currency = child.currency if child is not None else ""
    with panel_scope(provider.child_panel_id, currency=currency), transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        names = {(item.category or UNCATEGORISED) for item in upstream_services}
        names |= {(item.category or UNCATEGORISED) for item in upstream_products or ()}
        categories = _ensure_categories(names, provider.child_panel_id)
        pricing = Pricing([provider])
        pricing.add_categories(categories.values())
        floor = margin_floor(
            service_ids=Service.objects.filter(provider=provider).values_list("pk", flat=True)
        )
        summary.services, held = _sync_items(
            SERVICES, provider, upstream_services, categories, pricing, floor, now
        )
        if upstream_products is not None:
            summary.products, held_products = _sync_items(
                PRODUCTS, provider, upstream_products, categories, pricing, floor, now
            )
            held += held_products
        routes_refresh(provider=provider, now=now)
        if held:
            # In the sync's transaction: the digest exists exactly when the holds do.
            alert_held(provider=provider, items=held, synced_at=now)
        Provider.objects.filter(pk=provider.pk).update(last_synced_at=now, last_error="")
    logger.info("catalog sync %s", summary)
    return summary
