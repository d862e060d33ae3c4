"""Webhooks and the order lifecycle: every status change a poll or a final move writes becomes
the customer's events once; an upstream copy of this panel's webhook makes its orders re-read
at once (the body never trusted); the v2 extensions that make the subscription."""

import json
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from core.secrets import encrypt_secret
from notifications.models import Channel, Notification, WebhookEndpoint, WebhookEvent
from notifications.webhooks.services import webhook_endpoint_create
from notifications.webhooks.signing import signature_value
from orders.models import Order, OrderStatus, Refill, RefillStatus, Source
from orders.services import refill_forward, refill_request
from orders.services.polling import ORDERS, REFILLS, poll
from orders.services.polling.hints import provider_poll_hinted
from providers.models import Provider
from providers.services import provider_create, provider_webhook_subscribe
from sandbox import SandboxServer
from tests.support import order_finalize, sandbox_control

ALL = list(WebhookEvent.values)


@pytest.fixture(autouse=True)
def _loopback(settings: object) -> None:
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]


def _force(sandbox: SandboxServer, order: Order, status: str, **extra: object) -> None:
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status=status, **extra)


def _make_due() -> None:
    for model in (Order, Refill):
        model.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))


def _events() -> list[tuple[str, dict]]:
    rows = Notification.objects.filter(channel=Channel.WEBHOOK).order_by("id")
    return [(row.payload["type"], row.payload["data"]) for row in rows]


def test_polled_status_changes_become_events_once(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    webhook_endpoint_create(user=customer, url="http://127.0.0.1:9/h", events=ALL)
    order = sent(quantity=1000)
    _force(sandbox, order, "In progress")
    _make_due()
    poll(ORDERS, Provider.objects.get())
    _force(sandbox, order, "Completed")
    _make_due()
    poll(ORDERS, Provider.objects.get())
    _make_due()
    poll(ORDERS, Provider.objects.get())  # nothing moves: nothing new

    base = {"order": order.pk}
    assert _events() == [
        ("order.status_changed", {**base, "status": "In progress", "previous_status": "Pending"}),
        ("order.status_changed", {**base, "status": "Completed", "previous_status": "In progress"}),
        ("order.finished", {**base, "status": "Completed", "previous_status": "In progress"}),
    ]


def test_a_final_move_outside_polling_is_an_event_too(
    sent: Callable[..., Order], customer: User
) -> None:
    webhook_endpoint_create(user=customer, url="http://127.0.0.1:9/h", events=["order.finished"])
    order = sent(quantity=1000)
    order_finalize(order_id=order.pk, status=OrderStatus.CANCELED, actor="admin")
    order_finalize(order_id=order.pk, status=OrderStatus.CANCELED, actor="admin")  # replay
    assert _events() == [
        ("order.finished", {"order": order.pk, "status": "Canceled", "previous_status": "Pending"})
    ]


def test_a_finished_refill_is_an_event(
    sent: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    webhook_endpoint_create(user=customer, url="http://127.0.0.1:9/h", events=["refill.finished"])
    order = sent(quantity=1000, has_refill=True)
    _force(sandbox, order, "Completed")
    _make_due()
    poll(ORDERS, Provider.objects.get())
    refill = refill_request(user=order.user, order_id=order.pk, source=Source.API)
    assert refill_forward(refill_id=refill.pk) == "sent"
    refill.refresh_from_db()
    sandbox_control(sandbox, "force", refill=int(refill.upstream_id), status="Completed")
    _make_due()
    poll(REFILLS, Provider.objects.get())
    assert Refill.objects.get().status == RefillStatus.COMPLETED
    assert _events() == [
        ("refill.finished", {"refill": refill.pk, "order": order.pk, "status": "Completed"})
    ]


# --- Hints from an upstream copy of this panel -----------------------------------------------


def test_a_hint_re_reads_the_order_at_once_though_it_is_not_due(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = sent(quantity=1000)
    Order.objects.update(next_poll_at=timezone.now() + timedelta(hours=1))
    _force(sandbox, order, "Partial", remains=100)

    counts = provider_poll_hinted(
        provider_id=order.provider_id, kind="order", upstream_ids=[order.upstream_id]
    )

    order.refresh_from_db()
    assert counts.changed == 1 and order.status == OrderStatus.PARTIAL and order.remains == 100
    # a second hint for the same change changes nothing (and refunds nothing twice)
    again = provider_poll_hinted(
        provider_id=order.provider_id, kind="order", upstream_ids=[order.upstream_id]
    )
    assert again.changed == 0


def test_a_hint_names_only_the_providers_own_rows(
    sent: Callable[..., Order], sandbox: SandboxServer
) -> None:
    order = sent(quantity=1000)
    _force(sandbox, order, "Completed")
    counts = provider_poll_hinted(
        provider_id=order.provider_id, kind="order", upstream_ids=["999999"]
    )
    assert counts.polled == 0
    assert (
        provider_poll_hinted(provider_id=order.provider_id, kind="nope", upstream_ids=["1"]).polled
        == 0
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def _signed(secret: str, body: dict, at: int | None = None) -> dict:
    raw = json.dumps(body).encode()
    header = signature_value(secret=secret, body=raw, timestamp=at or int(time.time()))
    return {"data": raw, "content_type": "application/json", "HTTP_X_PANEL_SIGNATURE": header}


def test_the_receiving_view_checks_signature_dedupes_and_queues_a_re_read(
    client: Client, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import tasks

    queued: list[tuple] = []
    monkeypatch.setattr(
        tasks.provider_poll_hinted_task,
        "apply_async",
        lambda args, queue: queued.append((*args, queue)),
    )
    Provider.objects.filter(pk=provider.pk).update(
        webhook_secret_encrypted=encrypt_secret("whsec_upstream")
    )
    url = f"/hooks/provider/{provider.pk}/"
    event = {
        "id": "evt_1",
        "type": "order.status_changed",
        "created": 1,
        "data": {"order": 555, "status": "Completed"},
    }

    assert client.post(url, **_signed("whsec_wrong", event)).status_code == 401
    stale = int(time.time()) - 3600
    assert client.post(url, **_signed("whsec_upstream", event, at=stale)).status_code == 401
    assert (
        client.post("/hooks/provider/999999/", **_signed("whsec_upstream", event)).status_code
        == 404
    )
    assert queued == []

    first = client.post(url, **_signed("whsec_upstream", event))
    second = client.post(url, **_signed("whsec_upstream", event))
    assert first.status_code == 200 and first.json() == {"ok": True}
    assert second.json() == {"ok": True, "duplicate": True}
    # on the provider's own poll queue (orders.enqueue.provider_queue)
    assert queued == [(provider.pk, "order", ["555"], f"poll.{provider.pk % 16}")]

    ping = {"id": "evt_2", "type": "ping", "created": 1, "data": {}}
    assert client.post(url, **_signed("whsec_upstream", ping)).json()["ignored"] is True
    refill = {"id": "evt_3", "type": "refill.finished", "created": 1, "data": {"refill": 7}}
    client.post(url, **_signed("whsec_upstream", refill))
    assert queued[-1][:3] == (provider.pk, "refill", ["7"])


def test_a_hint_the_broker_cannot_take_is_refused_so_the_provider_sends_it_again(
    client: Client, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import tasks

    Provider.objects.filter(pk=provider.pk).update(
        webhook_secret_encrypted=encrypt_secret("whsec_upstream")
    )
    url = f"/hooks/provider/{provider.pk}/"
    event = {"id": "evt_9", "type": "order.finished", "created": 1, "data": {"order": 556}}

    def broker_away(args: tuple, queue: str) -> None:
        raise ConnectionError("broker away")

    monkeypatch.setattr(tasks.provider_poll_hinted_task, "apply_async", broker_away)
    refused = client.post(url, **_signed("whsec_upstream", event))
    assert refused.status_code == 503

    queued: list[tuple] = []
    monkeypatch.setattr(
        tasks.provider_poll_hinted_task, "apply_async", lambda args, queue: queued.append(args)
    )
    again = client.post(url, **_signed("whsec_upstream", event))
    assert again.json() == {"ok": True} and queued == [(provider.pk, "order", ["556"])]


# --- The v2 extensions -----------------------------------------------------------------------


def test_features_and_subscribe_over_the_v2_api(
    client: Client, reseller_key: str, reseller: User
) -> None:
    def api(**fields: str) -> dict:
        return json.loads(client.post("/api/v2", {"key": reseller_key, **fields}).content)

    assert api(action="features") == {
        "panel": "smm-panel",
        "features": ["client_ref", "webhooks"],
        "webhook_events": ALL,
    }
    first = api(action="webhook_subscribe", url="http://127.0.0.1:9/hooks/provider/3/")
    again = api(
        action="webhook_subscribe",
        url="http://127.0.0.1:9/hooks/provider/3/",
        events="order.status_changed,refill.finished",
    )
    assert first["webhook"] == again["webhook"] and first["secret"] != again["secret"]
    assert again["events"] == ["order.status_changed", "refill.finished"]
    endpoint = WebhookEndpoint.objects.get(user=reseller)
    assert endpoint.is_panel_subscription
    assert api(action="webhook_subscribe", url="https://10.0.0.1/x") == {
        "error": "Webhook URL is not allowed"
    }
    assert api(action="webhook_subscribe") == {"error": "Incorrect request"}
    assert api(action="webhook_unsubscribe", webhook=str(first["webhook"])) == {
        "webhook": first["webhook"],
        "deleted": 1,
    }
    assert api(action="webhook_unsubscribe", webhook=str(first["webhook"])) == {
        "error": "Incorrect webhook ID"
    }


def test_a_sandbox_provider_is_not_subscribed(provider: Provider, settings: object) -> None:
    settings.PANEL_PUBLIC_URL = "http://127.0.0.1:8000"  # type: ignore[attr-defined]
    assert not provider_webhook_subscribe(provider=provider)
    assert Provider.objects.get().webhook_secret_encrypted == ""


@pytest.mark.django_db(transaction=True)
def test_a_provider_that_is_a_copy_of_this_panel_is_subscribed(
    live_server: object, reseller: User, reseller_key: str, settings: object
) -> None:
    # given this very panel (live_server) as a provider of itself
    settings.PANEL_PUBLIC_URL = live_server.url  # type: ignore[attr-defined]
    api_url = f"{live_server.url}/api/v2"  # type: ignore[attr-defined]
    provider = provider_create(name="Copy", api_url=api_url, api_key=reseller_key)
    assert httpx.post(api_url, data={"key": reseller_key, "action": "balance"}).status_code == 200

    # when
    assert provider_webhook_subscribe(provider=provider)

    # then the upstream (the same database here) holds the endpoint of the callback
    provider.refresh_from_db()
    endpoint = WebhookEndpoint.objects.get(user=reseller)
    assert endpoint.url == f"{live_server.url}/hooks/provider/{provider.pk}/"  # type: ignore[attr-defined]
    assert provider.webhook_url == endpoint.url and provider.webhook_id == str(endpoint.pk)
    assert provider.webhook_secret_encrypted
