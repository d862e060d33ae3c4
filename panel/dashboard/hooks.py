"""How apps the panel does not know plug figures into the dashboard.

An installed app may have a `dashboard` module defining any of:

- `hands() -> list[dict]`: items for "What needs hands", each
  `{"label": str, "count": int, "url": str}` (a filtered admin list);
- `deposits_by_gateway(start: datetime, end: datetime) -> list[tuple[str, Decimal]]`:
  deposits credited in [start, end) per gateway.

The panel imports them (it sits above every app), so lower apps never import the panel.
"""

import importlib
import importlib.util
from collections.abc import Callable

from django.apps import apps


def app_hooks(name: str) -> list[Callable]:
    hooks = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.dashboard"
        if config.name == "panel" or importlib.util.find_spec(module_name) is None:
            continue
        hook = getattr(importlib.import_module(module_name), name, None)
        if callable(hook):
            hooks.append(hook)
    return hooks
