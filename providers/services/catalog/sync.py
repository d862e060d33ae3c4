"""Catalog sync: one bulk upsert per provider, selling rates from markup rules, a change log,
vanished items taken off sale (never deleted, since orders point at them, and never re-priced),
and the margin guard's holds (catalog.guard) with one staff digest per sync that held anything."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.tenancy import panel_scope
from providers.client import CatalogAnswer, UpstreamProduct, UpstreamService
from providers.errors import ProviderRejected
from providers.models import Category, Provider, Service, ServiceType
from providers.platforms import platform_detect
from providers.services.catalog.fingerprint import Fingerprint, answers_digest, state_digest
from providers.services.catalog.guard import MarginFloor, margin_floor
from providers.services.catalog.holds import alert_held
from providers.services.catalog.items import (
    PRODUCTS,
    SERVICES,
    ItemCounts,
    ItemSpec,
    Pricing,
    SyncSummary,
)
from providers.services.catalog.plan import (
    SyncPlan,
    item_is_unchanged,
    items_load,
    plan_new,
    plan_update,
    plan_write,
    stored_fields,
)
from providers.services.provider import provider_client
from providers.services.routes import routes_refresh

logger = logging.getLogger(__name__)

UNCATEGORISED = "Other"
_KNOWN_SERVICE_TYPES = frozenset(ServiceType.values)


def _ensure_categories(
    names: set[str], child_panel_id: int | None
) -> tuple[dict[str, Category], bool]:
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
    return found, bool(missing or redetected)


def _sync_items(
    spec: ItemSpec,
    provider: Provider,
    upstream_items: Sequence[UpstreamService | UpstreamProduct],
    categories: dict[str, Category],
    pricing: Pricing,
    floor: MarginFloor,
    now: datetime,
) -> tuple[ItemCounts, list[Any]]:
    plan = SyncPlan()
    # The stored items as plain rows: most of a sync's items are unchanged, and telling so from
    # a row costs a fraction of building its model instance. Only the others are loaded whole.
    stored = {
        row.upstream_id: row
        for row in spec.model.objects.filter(provider=provider).values_list(
            *stored_fields(spec), named=True
        )
    }
    seen: set[str] = set()
    moved: list[tuple[int, dict[str, object], Category]] = []
    # The upstream values as one tuple, in the order the stored row holds them: an unchanged
    # item is then told by one comparison, with no dict built for it.
    upstream_values = spec.upstream_values()
    for upstream in upstream_items:
        if upstream.upstream_id in seen or (
            spec.model is Service and upstream.type not in _KNOWN_SERVICE_TYPES
        ):
            plan.counts.skipped += 1
            continue
        seen.add(upstream.upstream_id)
        values = upstream_values(upstream)
        category = categories[(upstream.category or UNCATEGORISED)[:255]]
        row = stored.pop(upstream.upstream_id, None)
        if row is None:
            new = dict(zip(spec.fields, values, strict=True))
            plan_new(plan, spec, provider, upstream.upstream_id, new, category, pricing, floor, now)
        elif item_is_unchanged(row, values, category, pricing):
            plan.counts.unchanged += 1
        else:
            moved.append((row.pk, dict(zip(spec.fields, values, strict=True)), category))

    items = items_load(spec, [pk for pk, _, _ in moved] + [row.pk for row in stored.values()])
    for pk, fields, category in moved:
        plan_update(plan, spec, items[pk], fields, category, pricing, floor, now)
    # Taken off sale as they are: the price stays what it was (never 0), and coming back holds
    # them until an operator approves (plan_update).
    vanished = [items[row.pk] for row in stored.values() if row.is_available]
    plan.counts.added = len(plan.creates) + len(plan.new_rows)
    plan.counts.removed = len(vanished)
    plan_write(plan, spec, provider, vanished, now)
    return plan.counts, plan.held


@dataclass(frozen=True)
class _Upstream:
    services: list[UpstreamService]
    products: list[UpstreamProduct] | None  # None: the provider sells no products


def _read(
    services: CatalogAnswer[UpstreamService], products: CatalogAnswer[UpstreamProduct]
) -> _Upstream:
    upstream_services = services.items()
    try:
        upstream_products: list[UpstreamProduct] | None = products.items()
    except ProviderRejected:
        upstream_products = None  # a provider without products answers the action with an error
    return _Upstream(upstream_services, upstream_products)


def catalog_sync(*, provider: Provider) -> SyncSummary:
    """Import the provider's services and products and bring the catalog in line with them.

    Upstream calls happen before the transaction; the writes are one transaction holding the
    provider row, so two syncs of one provider take turns. Raises the client's ProviderError.
    Answers identical to the last finished sync's, over a catalog and prices as it left them,
    are not read at all (catalog.fingerprint).
    """
    client = provider_client(provider)
    services_answer, products_answer = client.services_answer(), client.products_answer()
    answers = answers_digest(services_answer, products_answer)
    # Read afresh: the caller's provider may be older than the last sync (a test's, a shell's).
    stored = Provider.objects.filter(pk=provider.pk).values_list("catalog_fingerprint", flat=True)
    last = Fingerprint.of(stored.first())
    # Answers that differ from the last sync's are read here, so that an unreadable one fails
    # before the transaction, as it always did.
    upstream = None if last and last.answers == answers else _read(services_answer, products_answer)
    now = timezone.now()
    summary = SyncSummary(provider=provider.name)
    # A child panel's prices are in its own currency: its selling rates are rounded as that
    # currency is written (whole đồng), whoever runs the sync.
    child = provider.child_panel
    currency = child.currency if child is not None else ""
    with panel_scope(provider.child_panel_id, currency=currency), transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        floor = margin_floor(
            service_ids=Service.objects.filter(provider=provider).values_list("pk", flat=True)
        )
        last = Fingerprint.of(provider.catalog_fingerprint)  # as the last finished sync left it
        finished: dict[str, object] = {"last_synced_at": now, "last_error": ""}
        # Taken before the stored items are read: an operator's edit made while this sync
        # compares and writes is then not in it, so the next sync reads again and sees it.
        before = state_digest(provider=provider, floor=floor)
        if last and last.answers == answers and last.state == before:
            summary.services, summary.products = last.counts()
            summary.is_read = False
        else:
            upstream = upstream or _read(services_answer, products_answer)
            has_written = _sync_upstream(summary, provider, upstream, floor, now)
            # Only a sync that found everything as it was leaves a fixed point it knows the
            # digest of: after one that wrote, the next reads once more, and stores it.
            finished["catalog_fingerprint"] = (
                {}
                if has_written
                else Fingerprint.after(
                    answers=answers,
                    state=before,
                    services=summary.services,
                    products=summary.products,
                ).as_json()
            )
        routes_refresh(provider=provider, now=now)
        Provider.objects.filter(pk=provider.pk).update(**finished)
    logger.info("catalog sync %s%s", summary, "" if summary.is_read else " (answers as last time)")
    return summary


def _sync_upstream(
    summary: SyncSummary,
    provider: Provider,
    upstream: _Upstream,
    floor: MarginFloor,
    now: datetime,
) -> bool:
    """The full sync: every item read and compared with its stored row. Says whether it wrote
    any item or category."""
    names = {(item.category or UNCATEGORISED) for item in upstream.services}
    names |= {(item.category or UNCATEGORISED) for item in upstream.products or ()}
    categories, has_written = _ensure_categories(names, provider.child_panel_id)
    pricing = Pricing([provider])
    pricing.add_categories(categories.values())
    summary.services, held = _sync_items(
        SERVICES, provider, upstream.services, categories, pricing, floor, now
    )
    if upstream.products is not None:
        summary.products, held_products = _sync_items(
            PRODUCTS, provider, upstream.products, categories, pricing, floor, now
        )
        held += held_products
    if held:
        # In the sync's transaction: the digest exists exactly when the holds do.
        alert_held(provider=provider, items=held, synced_at=now)
    counts = (
        [summary.services] if summary.products is None else [summary.services, summary.products]
    )
    return has_written or any(
        c.added or c.changed or c.removed or c.restored or c.held for c in counts
    )
