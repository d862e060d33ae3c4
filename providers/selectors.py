"""Reads of the catalog: what is on sale, and what changed."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from typing import TypedDict

from django.db.models import Count, Q, QuerySet

from accounts.models import ApiKey, User
from core.db import reads
from core.ids import parse_id
from core.tenancy import current_panel_id
from providers.models import (
    CatalogChange,
    CatalogItemQuerySet,
    Category,
    FavoriteService,
    PriceOverride,
    Product,
    Provider,
    Service,
    ServiceRoute,
)
from providers.platforms import platform_of, platform_rank
from providers.services.catalog.guard import margin_floor
from providers.services.catalog.items import Pricing


def service_rows(
    *,
    search: str = "",
    category_id: int | None = None,
    platform: str = "",
    favorites_of: int | None = None,
    by_platform: bool = False,
) -> QuerySet:
    """On-sale services as plain rows, in catalog order, for the API and the services page.

    `platform` keeps one platform's (providers.platforms), `favorites_of` a user's starred
    ones; `by_platform` orders by platform before category, as the pages group them (the API
    keeps the catalog order it always had)."""
    services = Service.objects.on_sale().annotate(platform=platform_of("category__"))
    if category_id:
        services = services.filter(category_id=category_id)
    if platform:
        services = services.filter(platform=platform)
    if favorites_of is not None:
        services = services.filter(favorites__user_id=favorites_of)
    if search:
        condition = (
            Q(name__icontains=search)
            | Q(name_override__icontains=search)
            | Q(category__name__icontains=search)
            | Q(category__name_vi__icontains=search)
            | Q(category__name_en__icontains=search)
        )
        if (number := parse_id(search)) is not None:
            condition |= Q(pk=number)
        services = services.filter(condition)
    order = ["category__sort_order", "category__name", "sort_order", "id"]
    if by_platform:
        services = services.annotate(platform_rank=platform_rank())
        order.insert(0, "platform_rank")
    return services.order_by(*order).values(
        "id",
        "name",
        "name_override",
        "type",
        "category_id",
        "category__name",
        "category__name_vi",
        "category__name_en",
        "platform",
        "rate",
        "min",
        "max",
        "has_refill",
        "warranty_days",
        "has_cancel",
        "has_dripfeed",
        "description",
        "description_vi",
        "description_en",
        "quantity_step",
        "average_time_seconds",
        # The scorecard (orders.scorecard), empty for a service without one.
        "score__start_p50_seconds",
        "score__complete_p50_seconds",
        "score__complete_p90_seconds",
        "score__partial_percent",
        "score__refill_success_percent",
    )


class CategoryRow(TypedDict):
    category_id: int
    category__name: str
    category__name_vi: str
    category__name_en: str
    count: int


class PlatformCategoryRow(CategoryRow):
    platform: str


def service_category_rows(
    *, platform: str = "", types: Sequence[str] = ()
) -> list[PlatformCategoryRow]:
    """Categories with services on sale, grouped by platform then in catalog order, with how
    many services each holds; one platform's when `platform` is given, and counting only
    services of `types` when given (the Telegram bot sells a few types)."""
    services = Service.objects.on_sale().annotate(platform=platform_of("category__"))
    if platform:
        services = services.filter(platform=platform)
    if types:
        services = services.filter(type__in=types)
    return list(
        services.values(
            "category_id", "category__name", "category__name_vi", "category__name_en", "platform"
        )
        .annotate(count=Count("id"), platform_rank=platform_rank())
        .order_by("platform_rank", "category__sort_order", "category__name")
    )


def favorite_service_ids(*, user_id: int) -> set[int]:
    return set(FavoriteService.objects.filter(user_id=user_id).values_list("service_id", flat=True))


def product_rows() -> QuerySet:
    return (
        Product.objects.on_sale()
        .order_by("category__sort_order", "category__name", "sort_order", "id")
        .values(
            "id",
            "name",
            "name_override",
            "category__name",
            "category__name_vi",
            "category__name_en",
            "rate",
            "min",
            "max",
            "require",
            "is_in_stock",
            "stock_status",
            "inventory",
            "type",
            "description",
        )
    )


def public_changes(*, kind: str = "") -> QuerySet[CatalogChange]:
    """Changes customers may see: public ones of items that are (or were, when removed) on sale."""
    changes = CatalogChange.objects.filter(is_public=True).filter(
        Q(service__is_enabled=True, service__provider__is_enabled=True)
        | Q(product__is_enabled=True, product__provider__is_enabled=True)
    )
    if kind:
        changes = changes.filter(kind=kind)
    return changes.select_related("service__category", "product__category").order_by(
        "-created_at", "-id"
    )


def catalog_version() -> tuple:
    """Changes whenever anything the current panel's price list shows changes: a service or
    product, a category, a provider (saves and the catalog services all move `updated_at`).
    One query over that panel's rows: another panel's sync moves neither this version nor its
    cost, which used to grow with every panel's catalog (docs/child-panels.md)."""
    panel = current_panel_id()
    return reads.tables_version(
        Service.objects.filter(provider__child_panel_id=panel),
        Product.objects.filter(provider__child_panel_id=panel),
        Category.objects.filter(child_panel_id=panel),
        Provider.objects.filter(child_panel_id=panel),
    )


@dataclass(frozen=True)
class RouteSuggestion:
    target: Service
    score: float


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _similarity(a: str, b: str) -> float:
    words_a, words_b = _words(a), _words(b)
    overlap = len(words_a & words_b) / len(words_a | words_b) if words_a | words_b else 0.0
    return (overlap + SequenceMatcher(None, a.lower(), b.lower()).ratio()) / 2


def route_suggestions(*, service: Service, limit: int = 10) -> list[RouteSuggestion]:
    """Other providers' services that look like `service`: the same type (required, or the
    order's fields would not fit), then ranked by name and category likeness."""
    taken = ServiceRoute.objects.filter(service=service).values("target_id")
    candidates = (
        Service.objects.filter(type=service.type, is_available=True, provider__is_enabled=True)
        .exclude(provider_id=service.provider_id)
        .exclude(pk__in=taken)
        .select_related("provider", "category")
    )
    category = service.category.name
    scored = [
        RouteSuggestion(
            target=candidate,
            score=round(
                0.7 * _similarity(service.name, candidate.name)
                + 0.3 * _similarity(category, candidate.category.name),
                3,
            ),
        )
        for candidate in candidates
    ]
    scored.sort(key=lambda s: (-s.score, s.target.pk))
    return scored[:limit]


ServiceForOrder = reads.ServiceForOrder[Service]


def service_for_order(
    *, service_id: int, user_id: int, child_panel_id: int | None
) -> ServiceForOrder | None:
    """The service `service_id` if it is on sale on the panel `child_panel_id` (None: the
    parent), with its provider, the user's own rate and whether it has routes; None when it is
    not on sale there.

    Every API `add` reads this, so it is one query whose SQL is written once per process
    (core.db.reads)."""
    return reads.service_for_order(
        services=Service,
        providers=Provider,
        overrides=PriceOverride,
        routes=ServiceRoute,
        service_id=service_id,
        user_id=user_id,
        child_panel_id=child_panel_id,
    )


@dataclass(frozen=True)
class ServiceRead:
    """What `service_for_order` answers for `service_id` and the ordering user, read before
    the order is placed (with the API key, `api_key_with_service_for_order`)."""

    service_id: int
    found: ServiceForOrder | None


KeyWithService = reads.KeyWithService[User, Service]


def api_key_with_service_for_order(*, prefix: str, service_id: int) -> KeyWithService | None:
    """The unrevoked API key whose lookup prefix is `prefix`, with its user, and what
    `service_for_order` answers for `service_id` and that user; one query. An API `add` names
    its service beside its key: one statement instead of two on every order."""
    return reads.api_key_with_service_lookup(
        keys=ApiKey,
        users=User,
        prefix=prefix,
        services=Service,
        providers=Provider,
        overrides=PriceOverride,
        routes=ServiceRoute,
        service_id=service_id,
    )


@dataclass(frozen=True)
class HeldRow:
    """One held item as the margin guard's digest shows it: what each way out would do."""

    item: Service | Product
    cost: Decimal  # upstream, in the panel currency, now
    markup_rate: Decimal  # what "approve the markup's price" would sell it at
    lowest_now: Decimal  # the lowest price a customer pays at the current price, in money
    margin_now: Decimal | None  # percent over cost at that lowest price (None: costs nothing)
    markup_clears: bool  # whether "approve the markup's price" would be accepted
    pinned_clears: bool  # whether "approve the current price, pinned" would be


def held_review(*, items: CatalogItemQuerySet) -> list[HeldRow]:
    """The held among `items` (services or products), oldest hold first, with the figures the
    digest page shows beside each way out (the same rule the resolutions apply:
    providers.services.catalog.holds). A few queries whatever their number."""
    held = list(items.held().select_related("provider", "category").order_by("held_at", "pk"))
    if not held:
        return []
    pricing = Pricing({item.provider for item in held})
    floor = margin_floor(service_ids=[i.pk for i in held] if items.model is Service else [])
    rows = []
    for item in held:
        cost, markup = pricing.cost_of(item), pricing.markup_rate(item)
        lowest = floor.lowest_rate(item=item, rate=item.rate)
        rows.append(
            HeldRow(
                item=item,
                cost=cost,
                markup_rate=markup,
                lowest_now=lowest,
                margin_now=((lowest - cost) * 100 / cost).quantize(Decimal("0.1"))
                if cost
                else None,
                markup_clears=floor.clears(item=item, rate=markup, cost=cost),
                pinned_clears=floor.clears(item=item, rate=item.rate, cost=cost),
            )
        )
    return rows
