"""Every write to providers and the catalog."""

from providers.services.catalog import (
    CategoryWords,
    SyncSummary,
    catalog_hold_approve_pinned,
    catalog_hold_approve_reprice,
    catalog_hold_disable,
    catalog_reprice,
    catalog_set_on_sale,
    catalog_sync,
    category_words_update,
)
from providers.services.favorites import favorite_set
from providers.services.provider import (
    provider_check,
    provider_client,
    provider_create,
    provider_create_for_child_panel,
    provider_mark_credentials_failed,
    provider_pause_dispatch,
    provider_record_error,
    provider_refresh_balances,
)
from providers.services.routes import route_add, route_update, routes_refresh
from providers.services.webhooks import provider_webhook_subscribe, providers_webhooks_subscribe

__all__ = [
    "CategoryWords",
    "SyncSummary",
    "catalog_hold_approve_pinned",
    "catalog_hold_approve_reprice",
    "catalog_hold_disable",
    "catalog_reprice",
    "catalog_set_on_sale",
    "catalog_sync",
    "category_words_update",
    "favorite_set",
    "provider_check",
    "provider_client",
    "provider_create",
    "provider_create_for_child_panel",
    "provider_mark_credentials_failed",
    "provider_pause_dispatch",
    "provider_record_error",
    "provider_refresh_balances",
    "provider_webhook_subscribe",
    "providers_webhooks_subscribe",
    "route_add",
    "route_update",
    "routes_refresh",
]
