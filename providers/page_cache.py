"""Reads of the whole catalog kept per process until the catalog moves, for the services
page: with 100,000 services on sale, counting, sorting by platform and grouping categories
cost seconds a visit, and the catalog changes only when a sync or an operator moves it (every
such write moves `updated_at`, which `catalog_version` reads). Prices are not kept: each
visitor's prices are applied to the rows when the page is drawn, so one entry serves every
pricing."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from core.tenancy import current_panel_id
from providers.selectors import catalog_version, service_category_rows, service_rows

T = TypeVar("T")

# (panel, filter, page): the first pages of each platform of the busiest panels stay.
_MAX_ENTRIES = 256
_entries: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()


def catalog_cached(name: Hashable, build: Callable[[], T]) -> T:
    """`build()`, kept under `name` for the current panel until the catalog changes."""
    key = (name, current_panel_id(), catalog_version())
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]
    value = build()
    with _lock:
        _entries[key] = value
        while len(_entries) > _MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


class CatalogPages:
    """The on-sale services of a platform or category filter, for a Paginator: the count and
    each page's rows are read once per catalog version."""

    def __init__(self, filters: dict[str, Any]) -> None:
        self.filters = filters
        self._key = tuple(sorted(filters.items()))

    def _rows(self) -> Any:
        return service_rows(**self.filters, by_platform=True)

    def count(self) -> int:
        return catalog_cached(("services-count", self._key), lambda: self._rows().count())

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return catalog_cached(
            ("services-page", self._key, window.start, window.stop),
            lambda: list(self._rows()[window]),
        )


def category_rows() -> list[Any]:
    """service_category_rows() of the whole catalog, kept like the pages."""
    return catalog_cached("service-categories", service_category_rows)
