"""The services page keeps its catalog reads until the catalog moves (providers.page_cache):
any write that moves `updated_at` (a sync that changed something, an operator's save) shows at
the next visit; a sync that changed nothing keeps the entries."""

from decimal import Decimal

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from providers.models import Provider, Service
from providers.services import catalog_sync
from sandbox import SandboxServer
from tests.support import sandbox_control


def _shown(client: Client, service: Service) -> dict:
    page = client.get("/services/")
    assert page.status_code == 200
    rows = [row for row in page.context["page"].object_list if row["id"] == service.pk]
    assert len(rows) == 1
    return rows[0]


def _service_reads(client: Client) -> list[str]:
    """The statements a visit runs on the services table, the version query left out."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/services/").status_code == 200
    return [
        query["sql"]
        for query in captured.captured_queries
        if '"providers_service"' in query["sql"] and "MAX(" not in query["sql"]
    ]


def test_the_page_reads_the_catalog_once_per_version_and_sees_every_write(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    client = Client()
    service = Service.objects.filter(provider=catalog).order_by("pk").first()
    assert service is not None
    first = _shown(client, service)

    # a second visit reads no service row: the count, the page and the categories are kept
    assert _service_reads(client) == []
    # an unchanged sync writes nothing, so the entries stay
    assert catalog_sync(provider=catalog).services.changed == 0
    assert _service_reads(client) == []

    # a write that does not move updated_at is not seen: what every writer must do
    Service.objects.filter(pk=service.pk).update(name_override="Quietly renamed")
    assert _shown(client, service)["name_override"] == first["name_override"]
    # an operator's save moves it
    Service.objects.get(pk=service.pk).save()
    assert _shown(client, service)["name_override"] == "Quietly renamed"

    # a sync that moved the price (by less than the hold limit): the next visit shows it
    sandbox_control(sandbox, "reprice", services=[int(service.upstream_id)], factor="1.1")
    assert catalog_sync(provider=catalog).services.changed == 1
    service.refresh_from_db()
    assert _shown(client, service)["rate"] == service.rate != Decimal(first["rate"])
