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


def current_panel_id() -> int | None:
    """The child panel being served, or None for the parent panel."""
    return _current.get()


@contextmanager
def panel_scope(panel_id: int | None) -> Iterator[None]:
    """Serve `panel_id` (None: the parent) inside the block, and restore what was before."""
    token = _current.set(panel_id)
    try:
        yield
    finally:
        _current.reset(token)
