"""The cache of one pytest-xdist worker. The workers share the Redis databases the settings name
(each has its own test database), so each worker's keys carry its name, and a clear (every test
starts with an empty cache, tests/conftest.py) removes that worker's keys only: Django's own
clear flushes the whole Redis database, under the other workers' running tests."""

from django.core.cache.backends.redis import RedisCache


class WorkerRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=self.make_key("*"), count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return True
