"""Answers built from the whole catalog (`services`, `products`), kept as encoded JSON per
process until the catalog moves. Resellers' scripts fetch `services` over and over; building
10,000 rows each time is most of a request's cost, and the catalog changes rarely."""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from core.tenancy import current_panel_id
from providers.selectors import catalog_version

# (panel, action, discount): a panel has a handful of discount levels, and the busiest child
# panels stay while a quiet one's answer is rebuilt when asked.
_MAX_ENTRIES = 64
_entries: OrderedDict[tuple, bytes] = OrderedDict()
_lock = threading.Lock()


class RawJson:
    """An answer already encoded; the view sends its bytes as they are."""

    def __init__(self, body: bytes) -> None:
        self.body = body


def catalog_answer(name: str, variant: Hashable, build: Callable[[], object]) -> RawJson:
    """The encoded answer `name` for `variant` (e.g. a discount), rebuilt when the catalog changed."""
    key = (name, variant, current_panel_id(), catalog_version())
    with _lock:
        body = _entries.get(key)
        if body is not None:
            _entries.move_to_end(key)
            return RawJson(body)
    body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
    with _lock:
        _entries[key] = body
        while len(_entries) > _MAX_ENTRIES:
            _entries.popitem(last=False)
    return RawJson(body)
