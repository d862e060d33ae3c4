"""Which panel a request or a task works for: the parent (None) or one child panel's id.

Child panels share every table with the parent and carry a tenant column (docs/child-panels.md).
The host middleware sets the current panel for a request; code that runs for one panel outside a
request (a command, a task) enters `panel_scope`. Readers of tenant-scoped rows ask
`current_panel_id()`, so one definition of "this panel's rows" holds for pages, the API and forms.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[int | None] = ContextVar("current_panel_id", default=None)
# The served panel's currency ("" for the parent's, PANEL_CURRENCY): a child panel's prices,
# balances and new customers are in its own (core.money.panel_currency).
_currency: ContextVar[str] = ContextVar("current_panel_currency", default="")


def current_panel_id() -> int | None:
    """The child panel being served, or None for the parent panel."""
    return _current.get()


def current_panel_currency() -> str:
    """The child panel's currency being served, or "" for the parent's (PANEL_CURRENCY)."""
    return _currency.get()


@contextmanager
def panel_scope(panel_id: int | None, *, currency: str = "") -> Iterator[None]:
    """Serve `panel_id` (None: the parent) in `currency` (empty: the parent's) inside the block,
    and restore what was before."""
    token = _current.set(panel_id)
    currency_token = _currency.set(currency.upper() if panel_id is not None else "")
    try:
        yield
    finally:
        _currency.reset(currency_token)
        _current.reset(token)
