"""A catalog of 100,000 services from one provider (`make bench-scale`): the first import, a
re-sync with nothing changed (the answers known from the last sync's fingerprint, and read and
compared item by item as if they were not), a re-sync with one price changed, and the services
page and `/api/v2 services` at that size."""

import httpx

from bench.catalog import synced_catalog
from bench.common import count_queries, median_ms, note, report, timed


def run(*, services: int) -> None:
    from django.test import Client

    from accounts.services import api_key_create
    from providers.models import Service
    from providers.services import catalog_sync
    from tests.factories import UserFactory

    # catalog_import_100k at full size
    size = f"{services // 1000}k" if services >= 1000 else str(services)
    with synced_catalog(services=services) as synced:
        one = synced.sandbox.config.services // 2
        httpx.post(
            synced.sandbox.control_url("reprice"),
            json={"key": "sandbox-key", "services": [one], "factor": "1.01"},
            timeout=60,
        ).raise_for_status()
        # The sandbox encodes its changed answer: not the panel's time.
        synced.client.services_answer()
        with count_queries() as one_queries, timed() as one_changed:
            moved = catalog_sync(provider=synced.provider)
        assert moved.is_read and moved.services.changed == 1, moved

    note(
        f"catalog of {Service.objects.count()} services ({synced.summary.services.added} imported);"
        " the sandbox in this process, serving answers it encoded beforehand, so the figures"
        " include fetching and parsing but not the sandbox's encoding"
    )
    report(f"catalog_fetch_{size}", synced.fetched, "s")
    report(f"catalog_fetch_parse_{size}", synced.fetch, "s")
    report(f"catalog_import_{size}", synced.first, "s")
    report(f"catalog_import_{size}_queries", synced.first_queries, "queries")
    report(f"catalog_resync_{size}_unchanged", synced.same, "s")
    report(f"catalog_resync_{size}_unchanged_queries", synced.same_queries, "queries")
    report(f"catalog_resync_{size}_unchanged_read", synced.read, "s")
    report(f"catalog_resync_{size}_unchanged_read_queries", synced.read_queries, "queries")
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
