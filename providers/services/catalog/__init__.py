"""Catalog import and sync, repricing, and the on-sale switch (see the modules)."""

from providers.services.catalog.items import PRODUCTS, SERVICES, ItemCounts, ItemSpec, SyncSummary
from providers.services.catalog.reprice import catalog_reprice, catalog_set_on_sale
from providers.services.catalog.sync import UNCATEGORISED, catalog_sync

__all__ = [
    "PRODUCTS",
    "SERVICES",
    "UNCATEGORISED",
    "ItemCounts",
    "ItemSpec",
    "SyncSummary",
    "catalog_reprice",
    "catalog_set_on_sale",
    "catalog_sync",
]
