"""One sync pass of one kind of item (services or products) as a plan: what is new, changed,
restored or held by the margin guard (catalog.guard), with the change log, written in bulk."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from core.db.bulk import bulk_insert_instances, bulk_insert_like
from core.money import quantize_money
from providers.models import (
    CatalogChange,
    CatalogItem,
    Category,
    HoldReason,
    Product,
    Provider,
    Service,
)
from providers.services.catalog.guard import MarginFloor
from providers.services.catalog.items import UPDATE_BATCH, ItemCounts, ItemSpec, Pricing, change_row

LOAD_BATCH = 10_000


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
class SyncPlan:
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
    plan: SyncPlan,
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


class _NewItem(NamedTuple):
    """What pricing reads of an item not stored yet: no markup of its own, not pinned."""

    provider_id: int
    category_id: int
    upstream_rate: Decimal
    markup_percent: Decimal | None = None
    markup_fixed: Decimal | None = None
    is_rate_pinned: bool = False
    rate: Decimal = Decimal(0)


def plan_new(
    plan: SyncPlan,
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


def stored_fields(spec: ItemSpec) -> list[str]:
    """The fields a sync reads of a stored item: the pricing ones, then the upstream values in
    the order of spec.fields (no upstream value is a pricing field)."""
    return [*_PRICING_FIELDS, *spec.fields]


_UPSTREAM_AT = len(_PRICING_FIELDS)


def item_is_unchanged(
    row: tuple[Any, ...], values: tuple[object, ...], category: Category, pricing: Pricing
) -> bool:
    """What plan_update would find unchanged, told from the stored row (read as
    stored_fields): on sale, the same upstream values (in the order of spec.fields) and
    category, and the price the markup rules give (or held, when the price waits for an
    operator whatever the rules say)."""
    item = cast(Any, row)
    if not item.is_available or item.category_id != category.pk:
        return False
    if row[_UPSTREAM_AT:] != values:
        return False
    return bool(item.hold_reason) or pricing.rate_for(item) == item.rate


def items_load(spec: ItemSpec, pks: list[int]) -> dict[int, Any]:
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


def plan_update(
    plan: SyncPlan,
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


def plan_write(
    plan: SyncPlan,
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
