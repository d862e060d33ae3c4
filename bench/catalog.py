"""Catalog import: first import, re-sync unchanged (told by the fingerprint, and read and
compared as if it were not), re-sync with 10 % changed, beside the time to fetch and parse the
catalog alone (the floor) in the same run, with query counts. `synced_catalog` is the part
catalog_scale shares."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import count_queries, note, report, reset_tables, timed


@dataclass(frozen=True)
class Synced:
    """A sandbox's catalog imported and re-synced unchanged twice, with the figures of each."""

    sandbox: Any
    provider: Any
    client: Any
    fetched: float  # the answers alone
    fetch: float  # the answers read and parsed: the floor of a sync
    first: float
    first_queries: int
    summary: Any
    read: float  # a re-sync without the fingerprint: every item read and compared
    read_queries: int
    same: float  # a re-sync told unchanged by the fingerprint
    same_queries: int


@contextmanager
def synced_catalog(*, services: int) -> Iterator[Synced]:
    """The sandbox (up until the block ends, for the caller's changes) with `services`
    services, imported by a fresh provider, and its unchanged re-syncs, each checked."""
    from providers.models import Provider
    from providers.services import catalog_sync, provider_client, provider_create
    from sandbox import SandboxConfig, SandboxServer

    reset_tables()
    with SandboxServer(SandboxConfig(services=services, products=20, seed=1), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        client = provider_client(provider)
        client.services()  # warm the connection and the sandbox's encoded answer
        with timed() as fetched:
            client.services_answer()
            client.products_answer()
        with timed() as fetch:
            client.services()
            client.products()
        with count_queries() as first_queries, timed() as first:
            summary = catalog_sync(provider=provider)
        # An import (any sync that wrote) leaves no fingerprint: the first re-sync reads and
        # compares every item, as every re-sync did before the fingerprint, and stores it.
        Provider.objects.filter(pk=provider.pk).update(catalog_fingerprint={})
        with count_queries() as read_queries, timed() as read:
            compared = catalog_sync(provider=provider)
        assert compared.is_read and compared.services.unchanged == summary.services.added
        with count_queries() as same_queries, timed() as same:
            again = catalog_sync(provider=provider)
        assert not again.is_read and again.services.unchanged == summary.services.added, again
        yield Synced(
            sandbox=sandbox,
            provider=provider,
            client=client,
            fetched=fetched[0],
            fetch=fetch[0],
            first=first[0],
            first_queries=first_queries[0],
            summary=summary,
            read=read[0],
            read_queries=read_queries[0],
            same=same[0],
            same_queries=same_queries[0],
        )


def run(*, services: int) -> None:
    from providers.services import catalog_sync

    with synced_catalog(services=services) as synced:
        httpx.post(
            synced.sandbox.control_url("reprice"),
            json={"key": "sandbox-key", "share": 0.1, "factor": "1.1"},
            timeout=30,
        )
        with count_queries() as changed_queries, timed() as changed:
            changed_summary = catalog_sync(provider=synced.provider)

    note(
        f"catalog of {services} services: {synced.summary.services.added} imported, {changed_summary.services.changed} changed on re-sync"
    )
    report("catalog_fetch_parse_only", synced.fetch, "s")
    report("catalog_first_import", synced.first, "s")
    report("catalog_first_import_queries", synced.first_queries, "queries")
    report("catalog_resync_unchanged", synced.same, "s")
    report("catalog_resync_unchanged_queries", synced.same_queries, "queries")
    report("catalog_resync_unchanged_read", synced.read, "s")
    report("catalog_resync_10pct_changed", changed[0], "s")
    report("catalog_resync_10pct_changed_queries", changed_queries[0], "queries")
    report("catalog_first_import_vs_fetch", synced.first / synced.fetch, "x")
