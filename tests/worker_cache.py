"""The cache of one test run: one checkout's, one pytest-xdist worker's. Checkouts and workers
share the Redis databases the settings name (each has its own test database), so their keys carry
both names (panel/settings_test.py), and a clear (every test starts with an empty cache,
tests/conftest.py) removes those keys only: Django's own clear flushes the whole Redis database,
under the other runs' tests."""

from django.core.cache.backends.redis import RedisCache


class WorkerRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=self.make_key("*"), count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return True
