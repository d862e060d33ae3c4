"""Fixed-window request counters in the cache (Redis in production): per key, and per client
address for requests with a bad key, so guessing keys is slow.

A key's own counter is counted ahead: a process takes a hundredth of the window's limit (at
most AHEAD_MOST) from Redis at once and spends it on the key's next requests, so that an API
request pays the Redis round trip once in that many (it was a tenth of an `add`'s CPU,
docs/performance.md, "The throttle counted ahead"). Near the limit every process takes one
count at a time (core.counters.cache_take), so a window never admits more than its limit; what
a process took ahead and did not spend before the window ended is lost, so a key spread over P
processes may be refused up to (P - 1) × (the block, less one) requests early, and only when
some of those processes stopped getting its requests. Failed keys are counted one by one."""

import os
import threading
import time

from accounts.login_throttle import client_address
from core.counters import cache_count, cache_take

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
# The share of a window's limit a process takes ahead (1 %), and at most so many counts: a limit
# under 200 is counted one by one, as every count was; the default 1,200 a minute in twelves.
AHEAD_SHARE = 100
AHEAD_MOST = 20


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" → (1200, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip().lower()]


def _window_key(scope: str, ident: str, period: int) -> tuple[str, int]:
    now = time.time()
    window = int(now // period)
    return f"throttle:{scope}:{ident}:{window}", int(period - now % period) + 1


class _Ahead:
    """The counts this process took ahead, per key's counter: (the window's counter, the
    limit it was taken under, what is left). A new window or another limit starts again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # gunicorn's threaded workers share it
        self._left: dict[tuple[str, str], tuple[str, int, int]] = {}

    def spend(self, owner: tuple[str, str], counter: str, limit: int) -> bool:
        with self._lock:
            held = self._left.get(owner)
            if held is None or held[0] != counter or held[1] != limit or held[2] <= 0:
                return False
            self._left[owner] = (counter, limit, held[2] - 1)
            return True

    def keep(self, owner: tuple[str, str], counter: str, limit: int, count: int) -> None:
        with self._lock:
            self._left[owner] = (counter, limit, count)

    def clear(self) -> None:
        with self._lock:
            self._left.clear()


_ahead = _Ahead()
# A forked worker starts with nothing taken: its parent's counts were its parent's.
os.register_at_fork(after_in_child=_ahead.clear)


def hit(scope: str, ident: str, rate: str, *, ahead: bool = False) -> int | None:
    """Count one request; returns the seconds to wait when over the limit, else None.
    `ahead`: the counter is a key's own, counted ahead (the module's docstring)."""
    limit, period = parse_rate(rate)
    key, remaining = _window_key(scope, ident, period)
    block = min(limit // AHEAD_SHARE, AHEAD_MOST) if ahead else 1
    if block <= 1:
        return remaining if cache_count(key, timeout=remaining) > limit else None
    owner = (scope, ident)
    if _ahead.spend(owner, key, limit):
        return None
    count, taken = cache_take(key, timeout=remaining, block=block, limit=limit)
    if count > limit:
        return remaining
    if taken > 1:
        _ahead.keep(owner, key, limit, taken - 1)
    return None


__all__ = ["client_address", "hit", "parse_rate"]
