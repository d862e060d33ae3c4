"""Telling a re-sync with nothing to do without reading the provider's answer (docs/scaling.md).

A sync's outcome depends only on: the provider's answers (their HTTP status and bytes), the code
that reads and prices them, the stored items' fields the sync compares, the panel's categories,
the provider's markup, exchange rate and currency, and the margin floor. A sync that read the
answers and found every item as it was (it wrote nothing) has seen a fixed point: the same
answers over the same state give the same verdict. It stores the digest of the answers and of
that state, taken under the provider lock before the stored items were read (an edit made while
it compared is then not in the digest). The next sync that finds both the same says "unchanged"
without parsing or comparing a single item. Anything different (one byte of the answer, an
operator's edit of one item, a category's markup, the exchange rate, a customer's discount, a
deploy that changes the parser) and it reads the answers and compares every item as before.
"""

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from core.db.reads import rows_digest
from core.money import panel_currency
from providers.client import CatalogAnswer
from providers.models import Category, Product, Provider, Service
from providers.services.catalog.guard import MarginFloor
from providers.services.catalog.items import PRODUCTS, SERVICES, ItemCounts
from providers.services.catalog.plan import stored_fields

# The code a sync's outcome depends on: how answers are read, how items are priced and
# compared, how categories get their platform. A deploy that changes any of it re-reads once.
_DECIDING_CODE = (
    "core.money",
    "core.text",
    "providers.client",
    "providers.markup",
    "providers.models",
    "providers.platforms",
    "providers.services.catalog",
)
_CATEGORY_FIELDS = ("pk", "name", "markup_percent", "markup_fixed", "platform")


@cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for name in _DECIDING_CODE:
        path = Path(str(import_module(name).__file__))
        for source in sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]:
            digest.update(source.read_bytes())
    return digest.hexdigest()


def answers_digest(services: CatalogAnswer[Any], products: CatalogAnswer[Any]) -> str:
    return hashlib.sha256(f"{services.digest}\n{products.digest}".encode()).hexdigest()


def state_digest(*, provider: Provider, floor: MarginFloor) -> str:
    """Everything on the panel's side that a sync reads, as one digest. Runs inside the sync's
    transaction, after the provider row is locked: a handful of queries, each one pass over the
    provider's rows in PostgreSQL."""
    parts = [
        _code_digest(),
        repr(
            (
                provider.markup_percent,
                provider.markup_fixed,
                provider.exchange_rate,
                provider.new_items_on_sale,
                provider.child_panel_id,
                panel_currency(),
            )
        ),
        # The guard only judges new, upstream-repriced and returning items, none of which a
        # fixed point has; kept anyway, so that a guard that one day judges every item stays
        # right.
        repr(
            (
                floor.min_margin_percent,
                floor.hold_percent,
                floor.percent_off,
                floor.bonus_percent,
                sorted(floor.overrides.items()),
            )
        ),
        rows_digest(
            Category.objects.filter(child_panel_id=provider.child_panel_id), _CATEGORY_FIELDS
        ),
        rows_digest(Service.objects.filter(provider=provider), stored_fields(SERVICES)),
        rows_digest(Product.objects.filter(provider=provider), stored_fields(PRODUCTS)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """What a sync that wrote nothing saw: the answers and the panel's side (`state`), with how
    many items each kind listed and skipped, so that a sync that reads nothing reports what a
    full one would."""

    answers: str
    state: str
    services: tuple[int, int]
    products: tuple[int, int] | None

    @classmethod
    def after(
        cls, *, answers: str, state: str, services: ItemCounts, products: ItemCounts | None
    ) -> "Fingerprint":
        return cls(
            answers, state, _listed(services), None if products is None else _listed(products)
        )

    @classmethod
    def of(cls, data: Any) -> "Fingerprint | None":
        """The fingerprint stored as `data` (Provider.catalog_fingerprint)."""
        try:
            products = data["products"]
            return cls(
                str(data["answers"]),
                str(data["state"]),
                (int(data["services"][0]), int(data["services"][1])),
                None if products is None else (int(products[0]), int(products[1])),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            return None  # never synced, or stored by an older shape: read the answers

    def as_json(self) -> dict[str, object]:
        return {
            "answers": self.answers,
            "state": self.state,
            "services": list(self.services),
            "products": None if self.products is None else list(self.products),
        }

    def counts(self) -> tuple[ItemCounts, ItemCounts | None]:
        """The counts a full sync of the same answers over the same state gives."""
        services = ItemCounts(unchanged=self.services[0], skipped=self.services[1])
        if self.products is None:
            return services, None
        return services, ItemCounts(unchanged=self.products[0], skipped=self.products[1])


def _listed(counts: ItemCounts) -> tuple[int, int]:
    # Items gone upstream are not listed: a sync of the same answer counts the others only.
    return counts.added + counts.changed + counts.restored + counts.unchanged, counts.skipped
