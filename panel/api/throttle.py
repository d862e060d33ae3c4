"""Fixed-window request counters in the cache (Redis in production): per key, and per client
address for requests with a bad key, so guessing keys is slow."""

import time

from accounts.login_throttle import client_address
from core.counters import cache_count

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" → (1200, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip().lower()]


def _window_key(scope: str, ident: str, period: int) -> tuple[str, int]:
    now = time.time()
    window = int(now // period)
    return f"throttle:{scope}:{ident}:{window}", int(period - now % period) + 1


def hit(scope: str, ident: str, rate: str) -> int | None:
    """Count one request; returns the seconds to wait when over the limit, else None."""
    limit, period = parse_rate(rate)
    key, remaining = _window_key(scope, ident, period)
    return remaining if cache_count(key, timeout=remaining) > limit else None


__all__ = ["client_address", "hit", "parse_rate"]
