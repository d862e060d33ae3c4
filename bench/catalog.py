"""Catalog import: first import, re-sync unchanged (told by the fingerprint, and read and
compared as if it were not), re-sync with 10 % changed, beside the time to fetch and parse the
catalog alone (the floor) in the same run, with query counts."""

from bench.common import count_queries, note, report, reset_tables, timed


def run(*, services: int) -> None:
    import httpx

    from providers.models import Provider
    from providers.services import catalog_sync, provider_client, provider_create
    from sandbox import SandboxConfig, SandboxServer

    reset_tables()
    with SandboxServer(SandboxConfig(services=services, products=20, seed=1), port=0) as sandbox:
        provider = provider_create(name="Bench", api_url=sandbox.url, api_key="sandbox-key")
        client = provider_client(provider)
        client.services()  # warm the connection and the sandbox's encoded answer
        with timed() as fetch:
            client.services()
            client.products()
        with count_queries() as first_queries, timed() as first:
            first_summary = catalog_sync(provider=provider)
        # The import leaves no fingerprint: the first re-sync reads every item and stores it.
        Provider.objects.filter(pk=provider.pk).update(catalog_fingerprint={})
        with timed() as read:
            catalog_sync(provider=provider)
        with count_queries() as same_queries, timed() as same:
            catalog_sync(provider=provider)
        httpx.post(
            sandbox.control_url("reprice"),
            json={"key": "sandbox-key", "share": 0.1, "factor": "1.1"},
            timeout=30,
        )
        with count_queries() as changed_queries, timed() as changed:
            changed_summary = catalog_sync(provider=provider)

    note(
        f"catalog of {services} services: {first_summary.services.added} imported, {changed_summary.services.changed} changed on re-sync"
    )
    report("catalog_fetch_parse_only", fetch[0], "s")
    report("catalog_first_import", first[0], "s")
    report("catalog_first_import_queries", first_queries[0], "queries")
    report("catalog_resync_unchanged", same[0], "s")
    report("catalog_resync_unchanged_queries", same_queries[0], "queries")
    report("catalog_resync_unchanged_read", read[0], "s")
    report("catalog_resync_10pct_changed", changed[0], "s")
    report("catalog_resync_10pct_changed_queries", changed_queries[0], "queries")
    report("catalog_first_import_vs_fetch", first[0] / fetch[0], "x")
