"""What the catalog is made of: the two item kinds and how each maps from the upstream answer,
the sync counts, selling prices from the markup rules, and change-log rows."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Protocol

from django.db.models import Q
from django.utils.translation import gettext

from core.money import money_str
from providers.markup import Markup, effective_markup, rule_at, selling_rate
from providers.models import (
    CatalogChange,
    CatalogItem,
    Category,
    Product,
    Provider,
    Service,
)

UPDATE_BATCH = 500  # bulk_update builds one CASE per field; small batches keep it linear


@dataclass(frozen=True)
class ItemSpec:
    """How one kind of catalog item maps from the upstream answer to its model."""

    model: type[Service] | type[Product]
    change_field: str  # the CatalogChange foreign key
    fields: dict[str, str]  # model field -> upstream attribute
    public_fields: dict[str, str]  # model field -> the label customers see on the Updates page
    quiet_fields: frozenset[str] = frozenset()  # updated, never logged (inventory moves constantly)

    def upstream_values(self) -> Callable[[object], tuple[object, ...]]:
        """What reads an upstream item's values of `fields` as one tuple, in their order, the
        stored row's (plan.stored_fields). attrgetter of a single name gives the bare value,
        which no row equals and which zips as its characters."""
        getter = attrgetter(*self.fields.values())
        if len(self.fields) == 1:
            return lambda upstream: (getter(upstream),)
        return getter


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
    held: int = 0  # newly held by the margin guard (catalog.guard), among the counts above

    def __str__(self) -> str:
        # In the reader's language: sync_catalog prints it, the admin shows it.
        return gettext(
            "%(added)d added, %(changed)d changed, %(removed)d removed, %(restored)d back, "
            "%(unchanged)d unchanged, %(skipped)d skipped, %(held)d held"
        ) % vars(self)


@dataclass
class SyncSummary:
    provider: str
    services: ItemCounts = field(default_factory=ItemCounts)
    products: ItemCounts | None = None
    # False when the answers were those of the last sync, over the catalog it left: not read,
    # every item known unchanged (catalog.fingerprint).
    is_read: bool = True

    def __str__(self) -> str:
        products = str(self.products) if self.products is not None else gettext("not offered")
        return gettext("%(provider)s: services %(services)s; products %(products)s") % {
            "provider": self.provider,
            "services": self.services,
            "products": products,
        }


class Priced(Protocol):
    """What pricing reads of an item: a model instance, or a stored row read as values (the
    sync tells unchanged items from their rows)."""

    @property
    def provider_id(self) -> int: ...
    @property
    def category_id(self) -> int: ...
    @property
    def markup_percent(self) -> Decimal | None: ...
    @property
    def markup_fixed(self) -> Decimal | None: ...
    @property
    def upstream_rate(self) -> Decimal: ...
    @property
    def is_rate_pinned(self) -> bool: ...
    @property
    def rate(self) -> Decimal: ...


class Pricing:
    """Markup rules and exchange rates loaded once, so pricing 10,000 items costs no queries."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        providers = list(providers)
        self.providers = {
            p.pk: (rule_at(p.markup_percent, p.markup_fixed), p.exchange_rate) for p in providers
        }
        self.categories: dict[int, Markup | None] = {}
        self.category_names: dict[int, str] = {}
        # The categories of these providers' panels only: a child panel's sync used to read
        # every panel's categories, a cost that grew with the number of panels
        # (docs/child-panels.md).
        panels = {p.child_panel_id for p in providers}
        mine = Q(child_panel_id__in=panels - {None})
        if None in panels:
            mine |= Q(child_panel_id__isnull=True)
        self.add_categories(
            Category.objects.filter(mine).only("pk", "name", "markup_percent", "markup_fixed")
        )

    def add_categories(self, categories: Iterable[Category]) -> None:
        for category in categories:
            self.categories[category.pk] = rule_at(category.markup_percent, category.markup_fixed)
            self.category_names[category.pk] = category.name

    def markup_for(self, item: Priced) -> Markup:
        provider_rule, _ = self.providers[item.provider_id]
        return effective_markup(
            rule_at(item.markup_percent, item.markup_fixed),
            self.categories.get(item.category_id),
            provider_rule,
        )

    def cost_of(self, item: Priced) -> Decimal:
        """What the item costs upstream, in the panel currency (per 1000 or per package)."""
        _, exchange_rate = self.providers[item.provider_id]
        return item.upstream_rate * exchange_rate

    def markup_rate(self, item: Priced) -> Decimal:
        """The selling price the markup rules give, pinned or not."""
        _, exchange_rate = self.providers[item.provider_id]
        return selling_rate(
            upstream_rate=item.upstream_rate,
            exchange_rate=exchange_rate,
            markup=self.markup_for(item),
        )

    def rate_for(self, item: Priced) -> Decimal:
        if item.is_rate_pinned:
            return item.rate
        return self.markup_rate(item)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return money_str(value)
    return "" if value is None else str(value)[:500]


def change_row(
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
