"""A catalog of 100,000 services from one provider (`make bench-scale`): the first import, a
re-sync with nothing changed, and the services page and `/api/v2 services` at that size."""

from bench.common import count_queries, median_ms, note, report, reset_tables, timed


def run(*, services: int) -> None:
    from django.test import Client

    from accounts.services import api_key_create
    from providers.models import Service
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
        with timed() as fetch:
            client.services()
            client.products()
        with count_queries() as first_queries, timed() as first:
            summary = catalog_sync(provider=provider)
        with count_queries() as same_queries, timed() as same:
            again = catalog_sync(provider=provider)
    assert again.services.unchanged == summary.services.added, again

    note(
        f"catalog of {Service.objects.count()} services ({summary.services.added} imported);"
        " the sandbox in this process, so the figures include fetching and parsing"
    )
    report(f"catalog_fetch_parse_{size}", fetch[0], "s")
    report(f"catalog_import_{size}", first[0], "s")
    report(f"catalog_import_{size}_queries", first_queries[0], "queries")
    report(f"catalog_resync_{size}_unchanged", same[0], "s")
    report(f"catalog_resync_{size}_unchanged_queries", same_queries[0], "queries")

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
