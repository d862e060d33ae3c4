"""Shared fixtures: named personas, a live sandbox provider, and a synced catalog.

Sockets are limited to loopback: nothing in the suite can reach a real provider.
"""

import os
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import User
from accounts.services import api_key_create
from providers.models import Provider
from sandbox import SandboxConfig, SandboxServer
from tests.factories import UserFactory

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
        "127.0.0.1",
        "::1",
        "localhost",
    ):
        raise RuntimeError(f"tests may only connect to loopback, not {host!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _sockets_on_loopback() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )


@pytest.fixture(autouse=True)
def _slow_tests_start_empty(request: pytest.FixtureRequest) -> None:
    """A slow test's database starts empty. A transactional test empties the test database only
    when it ends, and `--reuse-db` keeps that database from run to run: a run killed mid-test
    leaves its rows behind (a provider named "Sandbox", a user), and the next run's real workers
    and live server would meet them. Autouse fixtures run first, so this runs before any fixture
    that starts a process against the database."""
    if request.node.get_closest_marker("slow") is None or not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _ledger_stays_balanced(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that touches the database, every balance equals the sum of its ledger."""
    marker = request.node.get_closest_marker("django_db")
    transactional = _is_transactional(request)
    uses_db = marker is not None or transactional or "db" in request.fixturenames
    if not uses_db or request.node.get_closest_marker("ledger_unbalanced"):
        yield
        return
    # Requested here so the check runs before the database fixture rolls back or flushes.
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from accounts.selectors import ledger_mismatches

    assert ledger_mismatches() == [], "a balance no longer equals the sum of its ledger rows"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """The page middleware leaves the request's language active in the thread: a test that asked
    for a Vietnamese page must not make the next test's direct calls speak Vietnamese."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def fresh_period_registry() -> Iterator[None]:
    """For the tests of the monthly partitions: each process's cache of the month registry
    read afresh, and the order id sequence put back as it was. The registry rows a test writes
    roll back with it, but a sequence does not, and later tests must find the months the
    migrations made."""
    from django.db import connection

    from core.db.partitions import periods

    periods._cache.clear()
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM orders_order_id_seq")
        last_value, is_called = cursor.fetchone()
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('orders_order_id_seq', %s, %s)", [last_value, is_called])
    periods._cache.clear()


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory(username="alice", funds=Decimal("100"))


@pytest.fixture
def reseller(db: None) -> User:
    return UserFactory(username="bob", funds=Decimal("100"))


@pytest.fixture
def other_reseller(db: None) -> User:
    return UserFactory(username="charlie", funds=Decimal("100"))


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def reseller_key(reseller: User) -> str:
    return api_key_create(user=reseller)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Override in a test module to change the sandbox (faults, latency, catalog size)."""
    return SandboxConfig(key="sandbox-key", services=40, products=6, seed=7)


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox_config, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def provider(db: None, sandbox: SandboxServer) -> Provider:
    from providers.services import provider_create

    return provider_create(
        name="Sandbox", api_url=sandbox.url, api_key="sandbox-key", markup_percent=Decimal(25)
    )


@pytest.fixture
def catalog(provider: Provider) -> Provider:
    from providers.services import catalog_sync

    catalog_sync(provider=provider)
    return provider


# --- A real browser (headless Chromium through Playwright) for the tests that need one --------
# Without a Chromium (PANEL_TEST_CHROMIUM, /usr/bin/chromium by default) or without Playwright,
# those tests are skipped with a message saying how to get them; nothing else is. `make test`
# installs Debian's chromium when it runs as root (`make browser`).
CHROMIUM = Path(os.environ.get("PANEL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A browser for one test. Never longer: Playwright's sync API runs an event loop in the
    test's thread, and while it runs Django takes every ORM call for an async one."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests skipped: no Chromium at {CHROMIUM} "
            "(`make browser` installs Debian's chromium; PANEL_TEST_CHROMIUM names another)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: Playwright is not installed (`make install`)")
    # The ORM calls a test makes between two browser steps are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
