"""Counters in the cache that start at one and expire with their window (throttles, lockouts).

Django's cache has no "increment, creating with a timeout": `add` then `incr` is two commands,
and Django's Redis backend checks EXISTS before its INCR, so each counted request paid three
round trips to Redis. On Redis one script does all of it in one, atomically. Other backends
(the embedded setup's file cache, a test's local memory) keep the add-then-incr pair.
"""

from weakref import WeakKeyDictionary

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis import Redis
from redis.commands.core import Script

# EXPIRE only on the first hit: later hits must not push the end of the window back.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Gives back one count (an attempt that turned out fine); never below zero, never creates a key.
_UNCOUNT_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""
# Several counts at once while the window keeps room for them all, one at a time near its limit
# (see cache_take); returns the count and how many were added.
_TAKE_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local take = tonumber(ARGV[2])
if count + take > tonumber(ARGV[3]) then take = 1 end
count = redis.call('INCRBY', KEYS[1], take)
if count == take then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, take}
"""
_script: Script | None = None
_uncount_script: Script | None = None
_take_script: Script | None = None
# Django's Redis cache builds a client object (around its shared pool) for every command; one
# per cache backend instance does, and a new backend (settings changed) gets its own.
_clients: "WeakKeyDictionary[object, Redis]" = WeakKeyDictionary()


def cache_count(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` (created with `timeout` seconds to live); returns the count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_count(backend, key, timeout)
    if backend.add(key, 1, timeout=timeout):
        return 1
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, timeout=timeout)
        return 1


def cache_take(key: str, *, timeout: int, block: int, limit: int) -> tuple[int, int]:
    """Add `block` to the counter `key` at once while the count stays within `limit`, else
    one (created with `timeout` seconds to live); returns the count and what was added.

    For a counter a process may count ahead on (panel.api.throttle): near the limit every
    count is one, so what was taken ahead never makes a window admit more than `limit`. Other
    backends than Redis add one, as `cache_count` does."""
    backend = caches["default"]
    if block <= 1 or not isinstance(backend, RedisCache):
        return cache_count(key, timeout=timeout), 1
    global _take_script
    full_key = backend.make_and_validate_key(key)
    client = _client(backend, full_key)
    if _take_script is None:
        _take_script = client.register_script(_TAKE_SCRIPT)
    count, taken = _take_script(
        keys=[full_key], args=[max(int(timeout), 1), block, limit], client=client
    )
    return int(count), int(taken)


def cache_uncount(key: str) -> None:
    """Take one back from the counter `key`, if it still exists (its window is kept)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        global _uncount_script
        full_key = backend.make_and_validate_key(key)
        client = _client(backend, full_key)
        if _uncount_script is None:
            _uncount_script = client.register_script(_UNCOUNT_SCRIPT)
        _uncount_script(keys=[full_key], client=client)
        return
    try:
        if backend.decr(key) < 0:
            backend.delete(key)
    except ValueError:  # expired meanwhile: nothing to give back
        pass


def _client(backend: RedisCache, full_key: str) -> Redis:
    client = _clients.get(backend._cache)
    if client is None:
        client = _clients[backend._cache] = backend._cache.get_client(full_key, write=True)
    return client


def _redis_count(backend: RedisCache, key: str, timeout: int) -> int:
    full_key = backend.make_and_validate_key(key)
    client = _client(backend, full_key)
    global _script
    if _script is None:
        # Runs EVALSHA with whichever client it is given, loading the script where it is missing.
        _script = client.register_script(_COUNT_SCRIPT)
    return int(_script(keys=[full_key], args=[max(int(timeout), 1)], client=client))
