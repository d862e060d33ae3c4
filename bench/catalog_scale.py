"""A catalog of 100,000 services from one provider (`make bench-scale`): the first import, a
re-sync with nothing changed (the answers known from the last sync's fingerprint, and read and
compared item by item as if they were not), a re-sync with one price changed, and the services
page and `/api/v2 services` at that size."""

import httpx

from bench.common import count_queries, median_ms, note, report, reset_tables, timed


def run(*, services: int) -> None:
    from django.test import Client

    from accounts.services import api_key_create
    from providers.models import Provider, Service
    from providers.services import catalog_sync, provider_client, provider_create
    from sandbox import SandboxConfig, SandboxServer
    from tests.factories import UserFactory

    # catalog_import_100k at full size
    size = f"{services // 1000}k" if services >= 1000 else str(services)
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
        one = sandbox.config.services // 2
        httpx.post(
            sandbox.control_url("reprice"),
            json={"key": "sandbox-key", "services": [one], "factor": "1.01"},
            timeout=60,
        ).raise_for_status()
        client.services_answer()  # the sandbox encodes its changed answer: not the panel's time
        with count_queries() as one_queries, timed() as one_changed:
            moved = catalog_sync(provider=provider)
        assert moved.is_read and moved.services.changed == 1, moved

    note(
        f"catalog of {Service.objects.count()} services ({summary.services.added} imported);"
        " the sandbox in this process, serving answers it encoded beforehand, so the figures"
        " include fetching and parsing but not the sandbox's encoding"
    )
    report(f"catalog_fetch_{size}", fetched[0], "s")
    report(f"catalog_fetch_parse_{size}", fetch[0], "s")
    report(f"catalog_import_{size}", first[0], "s")
    report(f"catalog_import_{size}_queries", first_queries[0], "queries")
    report(f"catalog_resync_{size}_unchanged", same[0], "s")
    report(f"catalog_resync_{size}_unchanged_queries", same_queries[0], "queries")
    report(f"catalog_resync_{size}_unchanged_read", read[0], "s")
    report(f"catalog_resync_{size}_unchanged_read_queries", read_queries[0], "queries")
    report(f"catalog_resync_{size}_one_changed", one_changed[0], "s")
    report(f"catalog_resync_{size}_one_changed_queries", one_queries[0], "queries")

    pages = Client()
    assert pages.get("/services/").status_code == 200
    page_ms, page_p95 = median_ms(lambda: pages.get("/services/"), repeat=10)
    report(f"services_page_{size}_median", page_ms, "ms")
    report(f"services_page_{size}_p95", page_p95, "ms")

    reseller = UserFactory(username="scale-reseller")
    key = api_key_create(user=reseller)
    api = Client()

    def services_answer() -> None:
        answer = api.post("/api/v2", {"key": key, "action": "services"})
        assert answer.status_code == 200, answer.status_code

    services_answer()
    api_ms, api_p95 = median_ms(services_answer, repeat=10)
    report(f"api_services_{size}_median", api_ms, "ms")
    report(f"api_services_{size}_p95", api_p95, "ms")
