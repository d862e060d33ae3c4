"""The margin guard's held digest (issue 21, part 1): one page with every held item and what
each way out would do, one click per item, one click for all of them; the staff digest (email,
Telegram) and the dashboard's "What needs hands" lead to it."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from notifications.digest import digest_text
from notifications.models import Kind, Notification
from panel.dashboard.live import hands
from providers.admin import held as held_admin
from providers.models import HoldReason, Product, Provider, Service
from providers.services import catalog_sync, provider_create
from sandbox import SandboxServer
from tests.factories import UserFactory
from tests.support import sandbox_control

URL = "/admin/providers/service/held/"


def _hold(sandbox: SandboxServer, catalog: Provider, count: int) -> list[Service]:
    """`count` services whose cost rose by half: held below the margin at today's price, and
    the markup's price (25 % over the new cost) clears it."""
    services = list(Service.objects.filter(provider=catalog, type="Default").order_by("pk")[:count])
    sandbox_control(
        sandbox, "reprice", services=[int(s.upstream_id) for s in services], factor="1.5"
    )
    catalog_sync(provider=catalog)
    assert Service.objects.held().count() == count
    return services


def _admin(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))


def _viewer(client: Client) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_service"))
    client.force_login(viewer)


@override_settings(PANEL_PUBLIC_URL="https://panel.example")
def test_the_staff_digest_links_the_held_page_of_its_provider_by_email_and_telegram(
    catalog: Provider, sandbox: SandboxServer
) -> None:
    UserFactory(is_staff=True, email="ops@example.com")
    _hold(sandbox, catalog, 2)

    email = Notification.objects.get(kind=Kind.OPS_SERVICES_HELD, channel="staff_email")
    link = f"https://panel.example{URL}?provider={catalog.pk}"
    assert link in email.payload["body"]
    # The Telegram row carries it too (sent only where Telegram is set up); its digest line:
    row = Notification(kind=Kind.OPS_SERVICES_HELD, payload={"name": "P", "count": 2, "url": link})
    assert link in digest_text([row])


def test_the_dashboard_leads_to_the_held_digest(catalog: Provider, sandbox: SandboxServer) -> None:
    _hold(sandbox, catalog, 1)
    Product.objects.filter(provider=catalog).update(hold_reason=HoldReason.RESTORED)

    shown = {item.label: item for item in hands()}

    assert shown["Services held by the margin guard"].url == URL
    assert shown["Services held by the margin guard"].count == 1
    assert shown["Products held by the margin guard"].url == "/admin/providers/product/held/"


def test_the_page_shows_each_hold_and_what_each_way_out_would_do(
    client: Client, catalog: Provider, sandbox: SandboxServer
) -> None:
    held = _hold(sandbox, catalog, 2)
    _admin(client)

    page = client.get(URL).content.decode()

    for service in held:
        assert f'value="reprice:{service.pk}"' in page
        # The current price is below the margin now: keeping it is offered disabled.
        assert f'name="one" value="pinned:{service.pk}" disabled' in page
    assert "Its cost leaves less than the minimum margin" in page
    assert 'name="resolution" value="reprice"' in page


def test_a_viewer_sees_the_digest_but_cannot_resolve(
    client: Client, catalog: Provider, sandbox: SandboxServer
) -> None:
    [service] = _hold(sandbox, catalog, 1)
    _viewer(client)

    page = client.get(URL)
    refused = client.post(URL, {"one": f"disable:{service.pk}"})

    assert page.status_code == 200 and f"#{service.pk}" in page.content.decode()
    assert 'name="one"' not in page.content.decode()
    assert refused.status_code == 403
    service.refresh_from_db()
    assert service.hold_reason == HoldReason.BELOW_MARGIN and service.is_enabled


def test_one_click_resolves_one_item(
    client: Client, catalog: Provider, sandbox: SandboxServer
) -> None:
    first, second = _hold(sandbox, catalog, 2)
    _admin(client)

    response = client.post(URL, {"one": f"reprice:{first.pk}"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert response.status_code == 302
    assert first.hold_reason == "" and Service.objects.on_sale().filter(pk=first.pk).exists()
    assert second.hold_reason == HoldReason.BELOW_MARGIN


def test_one_click_approves_every_ticked_item_and_says_which_it_refused(
    client: Client, catalog: Provider, sandbox: SandboxServer
) -> None:
    held = _hold(sandbox, catalog, 3)
    _admin(client)
    ticked = [s.pk for s in held]

    kept = client.post(URL, {"resolution": "pinned", "items": ticked}, follow=True)
    assert Service.objects.held().count() == 3  # the current prices lose the margin
    assert "Still held" in kept.content.decode()

    client.post(URL, {"resolution": "reprice", "items": ticked[:2]})
    assert list(Service.objects.held().values_list("pk", flat=True)) == ticked[2:]

    client.post(URL, {"resolution": "disable", "items": ticked})
    assert not Service.objects.held().exists()
    assert not Service.objects.get(pk=ticked[2]).is_enabled
    assert all(Service.objects.get(pk=pk).is_enabled for pk in ticked[:2])


def test_all_of_one_providers_holds_past_the_page_in_one_click(
    client: Client,
    catalog: Provider,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(held_admin, "HELD_PER_PAGE", 2)
    _hold(sandbox, catalog, 5)
    other = provider_create(name="Other", api_url=sandbox.url, api_key="sandbox-key")
    elsewhere = Service.objects.filter(provider=catalog).exclude(hold_reason="").first()
    Service.objects.filter(pk=elsewhere.pk).update(provider=other)
    _admin(client)
    scoped = f"{URL}?provider={catalog.pk}"

    page = client.get(scoped).content.decode()
    assert "all 4, not only this page" in page

    client.post(scoped, {"resolution": "reprice", "everything": "1"})

    assert list(Service.objects.held().values_list("pk", flat=True)) == [elsewhere.pk]
    assert Service.objects.filter(provider=catalog, rate__gt=Decimal(0)).on_sale().count() >= 4


def test_an_empty_digest_says_so(client: Client, catalog: Provider) -> None:
    _admin(client)

    page = client.get(URL).content.decode()

    assert "Nothing is held" in page
