"""Test settings: the machine's PostgreSQL and Redis, unless the environment names others.

Tests always run against PostgreSQL; the values below are this machine's services and are
the only defaults in the settings, because a test run needs no secrets.
"""

import hashlib
import os
from pathlib import Path

# Tests never read a developer's .env: what they run against is fixed here or in the environment.
os.environ["PANEL_ENV_FILE"] = ""
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# Each checkout has a database name of its own (pytest-django tests in test_<name>, the slow tests'
# second panel and the benchmarks derive theirs from it): two checkouts on one machine never reuse,
# empty or drop each other's databases, even with no DATABASE_URL set.
CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:8]
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/smm_panel_{CHECKOUT}")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("PANEL_HTTPS", "off")
os.environ.setdefault("PANEL_ENCRYPTION_KEYS", "5Zq1mD4wXxWq8xqvJtXx0jVY4GfWm8c9mN0dQhYQyW8=")
# Tests read English pages unless they choose Vietnamese (the product default is vi).
os.environ.setdefault("PANEL_LANGUAGE", "en")

from panel.settings import *  # noqa: E402,F403

# Django's test client calls itself "testserver": the parent panel's host in tests.
PANEL_PARENT_HOSTS = [*PANEL_PARENT_HOSTS, "testserver"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A short read timeout keeps fault-injection tests quick; the sandbox answers in milliseconds.
# A test of a provider that hangs gives the workers it starts a longer one.
PANEL_PROVIDER_READ_TIMEOUT = float(os.environ.get("PANEL_TEST_PROVIDER_READ_TIMEOUT") or 2.0)
PANEL_PROVIDER_CONNECT_TIMEOUT = 2.0
# Tests serve static files from the finders; there is no collectstatic output to look for.
STATIC_ROOT = None
# Checkouts, and under pytest-xdist (`make test` runs the suite in parallel) its workers, each
# have their own test database (pytest-django names it test_<name>_gw0, ...) but may share the
# Redis databases: cache keys carry the checkout and the worker, and clearing the cache removes
# only their own. The processes a test starts inherit both, so they share the test's keys.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if CACHES["default"]["BACKEND"].endswith("redis.RedisCache"):  # noqa: F405
    CACHES["default"]["BACKEND"] = "tests.worker_cache.WorkerRedisCache"  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = f"{CHECKOUT}-{XDIST_WORKER}"  # noqa: F405
# The workers the end-to-end tests start inherit this process's environment, so they and the test
# share a broker key prefix of their own: a stray worker of another run on the same Redis database
# (an earlier run killed mid-way, another checkout's tests) can never take this run's tasks.
os.environ.setdefault("PANEL_TEST_BROKER_PREFIX", f"test-{os.getpid()}:")
if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "global_keyprefix": os.environ["PANEL_TEST_BROKER_PREFIX"],
    }
# Staff 2FA is tested where it is switched on; the other admin tests log staff in directly.
PANEL_STAFF_2FA = False
# Every request reads its host's panel from the database: a test that changes a panel and asks
# again at once sees the change (tests/child_panels/test_hosts.py proves the cache itself).
PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS = 0.0
