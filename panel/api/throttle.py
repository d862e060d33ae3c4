"""Fixed-window request counters in the cache (Redis in production): per key, and per client
address for requests with a bad key, so guessing keys is slow."""

import time

from django.core.cache import cache

from accounts.login_throttle import client_address

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
    if cache.add(key, 1, timeout=remaining):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=remaining)
            count = 1
    return remaining if count > limit else None


__all__ = ["client_address", "hit", "parse_rate"]
