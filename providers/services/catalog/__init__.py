"""Catalog import and sync, the margin guard and its holds, repricing, and the on-sale switch
(see the modules)."""

from providers.services.catalog.holds import (
    HoldOutcome,
    catalog_hold_approve_pinned,
    catalog_hold_approve_reprice,
    catalog_hold_disable,
)
from providers.services.catalog.items import PRODUCTS, SERVICES, ItemCounts, ItemSpec, SyncSummary
from providers.services.catalog.names import CategoryWords, category_words_update
from providers.services.catalog.reprice import catalog_reprice, catalog_set_on_sale
from providers.services.catalog.sync import UNCATEGORISED, catalog_sync

__all__ = [
    "PRODUCTS",
    "SERVICES",
    "UNCATEGORISED",
    "HoldOutcome",
    "CategoryWords",
    "ItemCounts",
    "ItemSpec",
    "SyncSummary",
    "catalog_hold_approve_pinned",
    "catalog_hold_approve_reprice",
    "catalog_hold_disable",
    "catalog_reprice",
    "catalog_set_on_sale",
    "catalog_sync",
    "category_words_update",
]
