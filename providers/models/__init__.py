"""The providers app's models, one module per concern (the app's models module grew past what
one file reads well); everything is importable from `providers.models` as before."""

from providers.models.catalog import CatalogItem, CatalogItemQuerySet, HoldReason, Product, Service
from providers.models.categories import Category
from providers.models.changes import CHANGE_FIELD_NAMES, CHANGE_VALUE_NAMES, CatalogChange
from providers.models.provider import Provider, ProviderCall
from providers.models.routing import (
    FavoriteService,
    PriceOverride,
    RouteScore,
    Scorecard,
    ServiceRoute,
    ServiceScore,
)
from providers.models.types import (
    DEFAULT_MARKUP_PERCENT,
    MAX_POLL_CONCURRENCY,
    PACKAGE_TYPES,
    SERVICE_TYPE_NAMES,
    RefillEscalation,
    ServiceType,
    percent_field,
    service_type_name,
    text_in,
)

__all__ = [
    "CHANGE_FIELD_NAMES",
    "CHANGE_VALUE_NAMES",
    "DEFAULT_MARKUP_PERCENT",
    "MAX_POLL_CONCURRENCY",
    "PACKAGE_TYPES",
    "SERVICE_TYPE_NAMES",
    "CatalogChange",
    "CatalogItem",
    "CatalogItemQuerySet",
    "Category",
    "FavoriteService",
    "HoldReason",
    "PriceOverride",
    "Product",
    "Provider",
    "ProviderCall",
    "RefillEscalation",
    "RouteScore",
    "Scorecard",
    "Service",
    "ServiceRoute",
    "ServiceScore",
    "ServiceType",
    "percent_field",
    "service_type_name",
    "text_in",
]
