"""A re-sync of answers the last sync imported, over the catalog it left, reads nothing
(providers/services/catalog/fingerprint.py); anything that could change its outcome, on the
provider's side or ours, makes it read and compare every item again."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import PricingTier
from providers.errors import ProviderUnavailable
from providers.models import CatalogChange, Category, HoldReason, Product, Provider, Service
from providers.services import catalog_hold_approve_reprice, catalog_sync, provider_client
from providers.services.catalog import fingerprint
from sandbox import SandboxServer
from tests.support import sandbox_control


def _first(provider: Provider) -> Service:
    return Service.objects.filter(provider=provider, type="Default").order_by("pk").first()


def _settle(provider: Provider) -> None:
    """Sync until the fingerprint is stored: a sync that wrote leaves none, so the next one
    reads once more, writes nothing and stores it."""
    summary = catalog_sync(provider=provider)
    if summary.is_read:
        counts = [summary.services, summary.products]
        assert not any(c and (c.added or c.changed or c.removed or c.restored) for c in counts)
    assert not catalog_sync(provider=provider).is_read


def _full_sync(provider: Provider) -> Any:
    """What the sync finds when it reads everything: the fingerprint forgotten first."""
    Provider.objects.filter(pk=provider.pk).update(catalog_fingerprint={})
    summary = catalog_sync(provider=provider)
    assert summary.is_read
    return summary


def test_a_resync_of_the_same_answers_reads_nothing_and_reports_what_a_full_one_would(
    catalog: Provider,
) -> None:
    # the import wrote everything: the first re-sync reads once more and stores the fingerprint
    assert catalog_sync(provider=catalog).is_read
    changes = CatalogChange.objects.count()
    synced_at = Provider.objects.get(pk=catalog.pk).last_synced_at

    quick = catalog_sync(provider=catalog)

    assert not quick.is_read
    assert CatalogChange.objects.count() == changes
    assert Provider.objects.get(pk=catalog.pk).last_synced_at > synced_at
    full = _full_sync(catalog)
    assert (quick.services, quick.products) == (full.services, full.products)
    assert full.services.unchanged == 40 and full.products.unchanged == 6
    assert CatalogChange.objects.count() == changes


def test_the_shortcut_runs_a_handful_of_queries_whatever_the_catalog(catalog: Provider) -> None:
    catalog_sync(provider=catalog)
    with CaptureQueriesContext(connection) as queries:
        assert not catalog_sync(provider=catalog).is_read

    assert len(queries) <= 15


def _reprice_upstream(provider: Provider, sandbox: SandboxServer, **_: Any) -> None:
    sandbox_control(sandbox, "reprice", services=[int(_first(provider).upstream_id)], factor="0.9")


def _remove_upstream(provider: Provider, sandbox: SandboxServer, **_: Any) -> None:
    sandbox_control(sandbox, "remove", services=[int(_first(provider).upstream_id)])


def _add_upstream(provider: Provider, sandbox: SandboxServer, **_: Any) -> None:
    sandbox_control(sandbox, "add_services", count=1)


def _provider_markup(provider: Provider, **_: Any) -> None:
    Provider.objects.filter(pk=provider.pk).update(markup_percent=Decimal(40))


def _exchange_rate(provider: Provider, **_: Any) -> None:
    Provider.objects.filter(pk=provider.pk).update(exchange_rate=Decimal("1.1"))


def _new_items_on_sale(provider: Provider, **_: Any) -> None:
    Provider.objects.filter(pk=provider.pk).update(new_items_on_sale=False)


def _category_markup(provider: Provider, **_: Any) -> None:
    Category.objects.filter(pk=_first(provider).category_id).update(markup_percent=Decimal(10))


def _category_platform(provider: Provider, **_: Any) -> None:
    Category.objects.filter(pk=_first(provider).category_id).update(platform="other")


def _item_markup(provider: Provider, **_: Any) -> None:
    # A bare update, as a script or a careless admin action would: updated_at does not move.
    Service.objects.filter(pk=_first(provider).pk).update(markup_fixed=Decimal(1))


def _pinned_price(provider: Provider, **_: Any) -> None:
    Service.objects.filter(pk=_first(provider).pk).update(rate=Decimal("9.99"), is_rate_pinned=True)


def _product_price(provider: Provider, **_: Any) -> None:
    Product.objects.filter(provider=provider).update(rate=Decimal(1))


def _taken_off_sale(provider: Provider, **_: Any) -> None:
    Service.objects.filter(pk=_first(provider).pk).update(is_available=False)


def _hold_released(provider: Provider, **_: Any) -> None:
    Service.objects.filter(pk=_first(provider).pk).update(hold_reason=HoldReason.PRICE_RISE)


def _margin_setting(settings: Any, **_: Any) -> None:
    settings.PANEL_MIN_MARGIN_PERCENT = Decimal(15)


def _hold_setting(settings: Any, **_: Any) -> None:
    settings.PANEL_PRICE_HOLD_PERCENT = Decimal(5)


def _customer_discount(**_: Any) -> None:
    PricingTier.objects.create(name="Gold", threshold=Decimal(1000), percent_off=Decimal(10))


def _parser_deployed(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    monkeypatch.setattr(fingerprint, "_code_digest", lambda: "a deploy changed the parser")


CAUSES: dict[str, Callable[..., None]] = {
    "an upstream price": _reprice_upstream,
    "a service gone upstream": _remove_upstream,
    "a new service upstream": _add_upstream,
    "the provider's markup": _provider_markup,
    "the exchange rate": _exchange_rate,
    "new items on sale or not": _new_items_on_sale,
    "a category's markup": _category_markup,
    "a category's platform": _category_platform,
    "a service's own markup, updated_at untouched": _item_markup,
    "a pinned price": _pinned_price,
    "a product's stored price": _product_price,
    "a service taken off sale by hand": _taken_off_sale,
    "a hold set or resolved": _hold_released,
    "the margin setting": _margin_setting,
    "the price-hold setting": _hold_setting,
    "a customer's discount": _customer_discount,
    "the code that reads answers": _parser_deployed,
}


@pytest.mark.parametrize("cause", CAUSES.values(), ids=CAUSES.keys())
def test_anything_that_could_change_the_outcome_makes_the_sync_read_again(
    catalog: Provider,
    sandbox: SandboxServer,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    cause: Callable[..., None],
) -> None:
    # given
    _settle(catalog)
    cause(provider=catalog, sandbox=sandbox, settings=settings, monkeypatch=monkeypatch)

    # when
    summary = catalog_sync(provider=catalog)

    # then
    assert summary.is_read
    _settle(catalog)  # what it left is a fixed point again


def test_a_price_set_around_the_sync_is_brought_back_to_the_markup_by_the_next_one(
    catalog: Provider,
) -> None:
    _settle(catalog)
    service = _first(catalog)
    Service.objects.filter(pk=service.pk).update(rate=Decimal("0.01"))

    summary = catalog_sync(provider=catalog)

    assert summary.is_read and summary.services.changed == 1
    assert Service.objects.get(pk=service.pk).rate == service.rate


def test_a_service_taken_off_sale_by_hand_comes_back_held(catalog: Provider) -> None:
    _settle(catalog)
    service = _first(catalog)
    Service.objects.filter(pk=service.pk).update(is_available=False)

    summary = catalog_sync(provider=catalog)

    service.refresh_from_db()
    assert summary.services.restored == 1
    assert service.is_available and service.hold_reason == HoldReason.RESTORED


def test_a_held_service_stays_held_without_reading_and_its_approval_is_read(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    # given: a cost that doubled, held by a sync that read it
    service = _first(catalog)
    sandbox_control(sandbox, "reprice", services=[int(service.upstream_id)], factor="2")
    assert catalog_sync(provider=catalog).services.held == 1
    service.refresh_from_db()
    held_price = service.rate

    # when / then: the same answer again holds it still, reading nothing once settled
    _settle(catalog)
    again = catalog_sync(provider=catalog)
    service.refresh_from_db()
    assert not again.is_read and again.services.unchanged == 40
    assert service.hold_reason == HoldReason.BELOW_MARGIN and service.rate == held_price
    # when / then: an operator's approval is what the next sync starts from
    catalog_hold_approve_reprice(items=Service.objects.filter(pk=service.pk))
    after = catalog_sync(provider=catalog)
    service.refresh_from_db()
    assert after.is_read and after.services.changed == 0 and after.services.held == 0
    assert service.hold_reason == ""


def test_a_vanished_service_stays_off_sale_when_the_answer_repeats(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    service = _first(catalog)
    sandbox_control(sandbox, "remove", services=[int(service.upstream_id)])
    assert catalog_sync(provider=catalog).services.removed == 1

    _settle(catalog)
    again = catalog_sync(provider=catalog)

    assert not again.is_read and again.services.unchanged == 39 and again.services.removed == 0
    assert not Service.objects.get(pk=service.pk).is_available
    assert (
        CatalogChange.objects.filter(service=service, kind=CatalogChange.Kind.REMOVED).count() == 1
    )


def test_an_edit_made_while_a_sync_compares_is_read_by_the_next_sync(
    catalog: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an operator's bare update lands after the sync read the stored rows
    from providers.services.catalog import sync

    service = _first(catalog)
    compare = sync._sync_upstream

    def compare_then_edit(*args: Any) -> bool:
        has_written = compare(*args)
        Service.objects.filter(pk=service.pk).update(rate=Decimal("0.01"))
        return has_written

    monkeypatch.setattr(sync, "_sync_upstream", compare_then_edit)
    assert not catalog_sync(provider=catalog).services.changed
    monkeypatch.undo()

    # when
    summary = catalog_sync(provider=catalog)

    # then
    assert summary.is_read and summary.services.changed == 1
    assert Service.objects.get(pk=service.pk).rate == service.rate


def test_a_sync_that_fails_leaves_the_last_fingerprint(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    _settle(catalog)
    before = Provider.objects.get(pk=catalog.pk).catalog_fingerprint
    sandbox_control(sandbox, "reprice", services=[int(_first(catalog).upstream_id)], factor="2")
    sandbox_control(sandbox, "config", error_5xx_rate=1, fault_actions=["products"])

    with pytest.raises(ProviderUnavailable):
        catalog_sync(provider=catalog)

    assert Provider.objects.get(pk=catalog.pk).catalog_fingerprint == before


def test_an_answer_is_told_by_its_bytes_and_read_only_when_asked(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    client = provider_client(catalog)
    first, second = client.services_answer(), client.services_answer()
    sandbox_control(sandbox, "reprice", services=[int(_first(catalog).upstream_id)], factor="2")
    moved = client.services_answer()

    assert first.digest == second.digest != moved.digest
    assert [item.upstream_id for item in first.items()] == [
        item.upstream_id for item in client.services()
    ]


def test_a_repeated_answer_is_not_parsed_even_for_a_provider_read_before_the_last_sync(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from providers.client import api

    def refuse(raw: Any) -> Any:
        raise AssertionError("parsed an answer the last sync imported")

    catalog_sync(provider=provider)
    catalog_sync(provider=provider)  # the instance still holds the fingerprint of before both
    monkeypatch.setattr(api, "parse_service", refuse)
    monkeypatch.setattr(api, "parse_product", refuse)

    assert provider.catalog_fingerprint == {}
    assert not catalog_sync(provider=provider).is_read


def test_no_upstream_value_is_a_pricing_field() -> None:
    # The sync compares a stored row's tail with the upstream values in spec.fields order.
    from providers.services.catalog.items import PRODUCTS, SERVICES
    from providers.services.catalog.plan import _PRICING_FIELDS

    for spec in (SERVICES, PRODUCTS):
        assert not set(spec.fields) & set(_PRICING_FIELDS)
