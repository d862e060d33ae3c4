from dataclasses import replace
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.client import UpstreamService
from providers.errors import ProviderAuthError, ProviderUnavailable
from providers.models import CatalogChange, Category, Product, Provider, Service, ServiceType
from providers.services import catalog_reprice, catalog_sync, provider_create
from providers.services.catalog.items import SERVICES
from sandbox import SandboxConfig, SandboxServer
from tests.support import sandbox_control

Kind = CatalogChange.Kind


def _upstream(sandbox: SandboxServer) -> dict[str, dict]:
    import httpx

    answer = httpx.post(sandbox.url, data={"key": "sandbox-key", "action": "services"}).json()
    return {str(item["service"]): item for item in answer}


def test_first_sync_imports_every_service_with_marked_up_rates(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    upstream = _upstream(sandbox)
    services = {s.upstream_id: s for s in Service.objects.filter(provider=catalog)}

    assert services.keys() == upstream.keys()
    assert {s.type for s in services.values()} == set(ServiceType.values)
    for upstream_id, item in upstream.items():
        service = services[upstream_id]
        assert service.upstream_rate == Decimal(item["rate"])
        assert service.rate == (Decimal(item["rate"]) * Decimal("1.25")).quantize(
            Decimal("0.000001")
        )
        assert (service.min, service.max) == (int(item["min"]), int(item["max"]))
        assert service.category.name == item["category"]
        assert service.is_enabled and service.is_available
    assert CatalogChange.objects.filter(kind=Kind.ADDED, service__isnull=False).count() == len(
        upstream
    )


def test_products_are_imported_with_stock_and_require(catalog: Provider) -> None:
    products = Product.objects.filter(provider=catalog)

    assert products.count() == 6
    assert products.filter(is_in_stock=False).exists()
    assert products.exclude(require="").exists()
    assert set(products.values_list("type", flat=True)) == {"Auto", "Service"}


def test_resync_without_upstream_changes_writes_no_change_rows(catalog: Provider) -> None:
    before = CatalogChange.objects.count()

    summary = catalog_sync(provider=catalog)

    assert summary.services.unchanged == 40 and summary.services.changed == 0
    assert CatalogChange.objects.count() == before


def test_upstream_price_change_is_logged_publicly_with_the_selling_rates(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = Service.objects.filter(provider=catalog).order_by("pk").first()
    old_rate = service.rate
    sandbox_control(sandbox, "reprice", services=[int(service.upstream_id)], factor="0.5")

    summary = catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.changed == 1
    assert service.rate < old_rate
    public = CatalogChange.objects.get(service=service, kind=Kind.CHANGED, field="rate")
    assert (
        public.is_public
        and Decimal(public.old_value) == old_rate
        and Decimal(public.new_value) == service.rate
    )
    assert CatalogChange.objects.get(service=service, field="upstream_rate").is_public is False


def test_vanished_services_are_disabled_not_deleted_and_come_back(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = Service.objects.filter(provider=catalog).order_by("pk").last()
    sandbox_control(sandbox, "remove", services=[int(service.upstream_id)])

    summary = catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.removed == 1
    assert service.is_available is False and service.removed_at is not None
    assert CatalogChange.objects.filter(service=service, kind=Kind.REMOVED).exists()
    assert catalog_sync(provider=catalog).services.removed == 0  # stays removed, logged once


def test_new_items_wait_for_an_admin_when_the_provider_says_so(
    db: None, sandbox: SandboxServer
) -> None:
    provider = provider_create(
        name="Held", api_url=sandbox.url, api_key="sandbox-key", new_items_on_sale=False
    )

    catalog_sync(provider=provider)

    assert not Service.objects.filter(provider=provider, is_enabled=True).exists()


def test_pinned_price_survives_sync_and_reprice(catalog: Provider, sandbox: SandboxServer) -> None:
    service = Service.objects.filter(provider=catalog).order_by("pk").first()
    Service.objects.filter(pk=service.pk).update(rate=Decimal("9.99"), is_rate_pinned=True)
    sandbox_control(sandbox, "reprice", services=[int(service.upstream_id)], factor="2")

    catalog_sync(provider=catalog)
    catalog_reprice(provider=catalog)

    service.refresh_from_db()
    assert service.rate == Decimal("9.99")
    assert service.upstream_rate > Decimal(0)


def test_markup_precedence_service_over_category_over_provider(catalog: Provider) -> None:
    first, second, third = Service.objects.filter(provider=catalog).order_by("pk")[:3]
    category = Category.objects.create(name="Precedence")
    Service.objects.filter(pk__in=[first.pk, second.pk]).update(category=category)
    Category.objects.filter(pk=category.pk).update(markup_percent=Decimal(10))
    Service.objects.filter(pk=first.pk).update(markup_percent=None, markup_fixed=Decimal("1"))

    catalog_reprice(provider=catalog)

    for service in (first, second, third):
        service.refresh_from_db()
    assert first.rate == first.upstream_rate + Decimal(1)
    assert second.rate == (second.upstream_rate * Decimal("1.1")).quantize(Decimal("0.000001"))
    assert third.rate == (third.upstream_rate * Decimal("1.25")).quantize(Decimal("0.000001"))


def test_exchange_rate_converts_provider_currency_into_the_panel_currency(
    catalog: Provider,
) -> None:
    Provider.objects.filter(pk=catalog.pk).update(
        exchange_rate=Decimal("0.04"), markup_percent=Decimal(0)
    )

    changed = catalog_reprice(provider=catalog)

    service = Service.objects.filter(provider=catalog).order_by("pk").first()
    assert (
        changed
        == Service.objects.filter(provider=catalog).count()
        + Product.objects.filter(provider=catalog).count()
    )
    assert service.rate == (service.upstream_rate * Decimal("0.04")).quantize(Decimal("0.000001"))
    assert (
        CatalogChange.objects.filter(kind=Kind.CHANGED, field="rate", is_public=True).count()
        == changed
    )


def test_provider_key_is_encrypted_at_rest(provider: Provider) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "select api_key_encrypted from providers_provider where id = %s", [provider.pk]
        )
        (stored,) = cursor.fetchone()

    assert "sandbox-key" not in stored
    assert Provider.objects.get(pk=provider.pk).api_key == "sandbox-key"
    assert "sandbox-key" not in repr(provider) and "sandbox-key" not in str(provider)


def test_provider_create_checks_the_key_first(db: None, sandbox: SandboxServer) -> None:
    with pytest.raises(ProviderAuthError):
        provider_create(name="Wrong", api_url=sandbox.url, api_key="not-the-key")
    with pytest.raises(ProviderUnavailable):
        provider_create(name="Nowhere", api_url="http://127.0.0.1:9/api/v2", api_key="k")
    assert not Provider.objects.exists()


def test_provider_create_takes_currency_and_balance_from_the_provider(provider: Provider) -> None:
    assert provider.currency == "USD" and provider.exchange_rate == Decimal(1)
    assert provider.balance == Decimal("100000") and provider.balance_checked_at is not None


def test_sync_queries_do_not_grow_with_the_catalog(db: None) -> None:
    def queries_for(size: int) -> int:
        with SandboxServer(SandboxConfig(services=size, products=2, seed=3), port=0) as server:
            provider = provider_create(
                name=f"Size{size}", api_url=server.url, api_key="sandbox-key"
            )
            with CaptureQueriesContext(connection) as first:
                catalog_sync(provider=provider)
            return len(first.captured_queries)

    assert queries_for(40) == queries_for(1200)


def test_sync_catalog_command_prints_a_summary(catalog: Provider) -> None:
    out = StringIO()
    call_command("sync_catalog", "--provider", "sandbox", stdout=out)
    assert "Sandbox: services 0 added, 0 changed" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("sync_catalog", "--provider", "missing", stdout=StringIO())


def test_add_provider_command_registers_a_checked_provider(
    db: None, sandbox: SandboxServer
) -> None:
    out = StringIO()
    call_command(
        "add_provider", "Main", sandbox.url, "sandbox-key", "--markup-percent", "30", stdout=out
    )

    provider = Provider.objects.get(name="Main")
    assert provider.markup_percent == Decimal(30)
    assert "balance 100000" in out.getvalue()
    with pytest.raises(CommandError, match="did not accept"):
        call_command("add_provider", "Bad", sandbox.url, "wrong-key", stdout=StringIO())


def test_rotate_secrets_moves_provider_keys_to_the_new_first_key(
    provider: Provider, settings: object
) -> None:
    from cryptography.fernet import Fernet

    from core.secrets import _fernet

    new_key = Fernet.generate_key().decode()
    old_keys = list(settings.PANEL_ENCRYPTION_KEYS)  # type: ignore[attr-defined]
    settings.PANEL_ENCRYPTION_KEYS = [new_key, *old_keys]  # type: ignore[attr-defined]
    _fernet.cache_clear()
    try:
        call_command("rotate_secrets", stdout=StringIO())
        settings.PANEL_ENCRYPTION_KEYS = [new_key]  # type: ignore[attr-defined]  # the old key is retired
        _fernet.cache_clear()
        assert Provider.objects.get(pk=provider.pk).api_key == "sandbox-key"
    finally:
        settings.PANEL_ENCRYPTION_KEYS = old_keys  # type: ignore[attr-defined]
        _fernet.cache_clear()


_LIKES = UpstreamService(
    upstream_id="1",
    name="Likes",
    type="Default",
    category="Instagram",
    rate=Decimal("1.5"),
    min=10,
    max=1000,
    refill=False,
    cancel=False,
    dripfeed=False,
    description="",
)


def test_an_item_specs_upstream_values_are_a_tuple_however_few_its_fields() -> None:
    one = replace(SERVICES, fields={"name": "name"}).upstream_values()
    two = replace(SERVICES, fields={"name": "name", "upstream_rate": "rate"}).upstream_values()

    assert one(_LIKES) == ("Likes",)
    assert two(_LIKES) == ("Likes", Decimal("1.5"))
    assert SERVICES.upstream_values()(_LIKES)[:3] == ("Likes", "Default", Decimal("1.5"))
