"""Webhooks to customers: the signature, the address guard, endpoints, the sender with its
retries and log, balance-low crossings, and the API page's section."""

import ipaddress
import json
import socket
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import balance_credit, balance_debit
from core.secrets import decrypt_secret
from notifications.models import (
    Channel,
    Notification,
    Status,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.webhooks.delivery import (
    EXCERPT_BYTES,
    address_is_allowed,
    url_problem,
    webhook_post,
)
from notifications.webhooks.sender import MAX_ATTEMPTS, retry_delay, webhooks_deliver
from notifications.webhooks.services import (
    MAX_ENDPOINTS,
    StatusChange,
    WebhookRefused,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_subscribe,
    webhook_resend,
    webhook_test_send,
    webhooks_balance_watch,
    webhooks_for_orders,
)
from notifications.webhooks.signing import signature_is_valid, signature_value
from tests.factories import UserFactory
from tests.notifications.webhook_receiver import Receiver, independent_check

ALL_EVENTS = list(WebhookEvent.values)


@pytest.fixture
def loopback(settings: object) -> None:
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]


@pytest.fixture
def receiver() -> object:
    with Receiver() as running:
        yield running


# --- Signature -------------------------------------------------------------------------------


def test_signature_checks_body_secret_and_age() -> None:
    body = b'{"id":"evt_1"}'
    now = int(time.time())
    header = signature_value(secret="s3cret", body=body, timestamp=now)
    assert header.startswith(f"t={now},v1=")
    assert signature_is_valid(secret="s3cret", body=body, header=header, tolerance_seconds=300)
    assert independent_check("s3cret", body, header)
    assert not signature_is_valid(secret="other", body=body, header=header, tolerance_seconds=300)
    assert not signature_is_valid(
        secret="s3cret", body=body + b" ", header=header, tolerance_seconds=300
    )
    old = signature_value(secret="s3cret", body=body, timestamp=now - 301)
    assert not signature_is_valid(secret="s3cret", body=body, header=old, tolerance_seconds=300)
    for broken in ("", "t=abc,v1=00", f"t={now}", "v1=00"):
        assert not signature_is_valid(
            secret="s3cret", body=body, header=broken, tolerance_seconds=300
        )


# --- The address guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - an address being refused
        "224.0.0.1",
        "240.0.0.1",
        "192.0.2.10",  # documentation
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::ffff:169.254.169.254",
        "::ffff:127.0.0.1",
        "127.0.0.1",
        "::1",
    ],
)
def test_private_loopback_and_reserved_addresses_are_refused(address: str) -> None:
    assert not address_is_allowed(ipaddress.ip_address(address), allow_loopback=False)


def test_public_addresses_pass_and_loopback_only_when_allowed() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert address_is_allowed(ipaddress.ip_address(address), allow_loopback=False)
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert address_is_allowed(ipaddress.ip_address(address), allow_loopback=True)
    # loopback allowed opens nothing else
    assert not address_is_allowed(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


def test_url_problems(settings: object) -> None:
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = False  # type: ignore[attr-defined]
    assert url_problem("ftp://example.com/x") == "invalid_url"
    assert url_problem("https://user:pw@8.8.8.8/x") == "invalid_url"
    assert url_problem("not a url") == "invalid_url"
    assert url_problem("https://10.0.0.5/hook") == "address_refused"
    assert url_problem("https://[::ffff:192.168.0.1]/hook") == "address_refused"
    assert url_problem("https://127.0.0.1/hook") == "address_refused"
    assert url_problem("https://localhost/hook") == "address_refused"  # resolved, then judged
    assert url_problem("http://8.8.8.8/hook") == "https_required"
    assert url_problem("https://8.8.8.8/hook") is None
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]
    assert url_problem("http://127.0.0.1:9/hook") is None
    assert url_problem("http://10.0.0.5/hook") == "address_refused"


def test_a_refused_address_is_never_connected_to(receiver: Receiver, settings: object) -> None:
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = False  # type: ignore[attr-defined]
    answer = webhook_post(url=receiver.url(), body=b"{}", headers={})
    assert answer.error_code == "address_refused" and answer.status_code is None
    assert receiver.received == []


def test_post_connects_to_the_checked_address_and_keeps_the_host_name(
    receiver: Receiver, loopback: None
) -> None:
    answer = webhook_post(url=receiver.url(host="localhost"), body=b'{"a":1}', headers={"X-A": "b"})
    assert answer.is_success and answer.status_code == 200
    (request,) = receiver.received
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    assert request.headers["X-A"] == "b" and request.body == b'{"a":1}'


def test_redirects_are_not_followed_and_answers_are_cut(receiver: Receiver, loopback: None) -> None:
    receiver.answers = [302]
    receiver.location = receiver.url("/elsewhere")
    receiver.answer_body = b"x" * 5000
    answer = webhook_post(url=receiver.url(), body=b"{}", headers={})
    assert answer.status_code == 302 and not answer.is_success
    assert len(answer.excerpt) == EXCERPT_BYTES
    assert [r.path for r in receiver.received] == ["/hook"]


def test_a_closed_port_is_a_connect_error(loopback: None) -> None:
    with Receiver() as gone:
        url = gone.url()
    assert webhook_post(url=url, body=b"{}", headers={}).error_code == "connect"


def _dns(monkeypatch: pytest.MonkeyPatch, host: str, *addresses: str) -> None:
    """`host` resolves to `addresses` from now on (what a hostile DNS server may answer)."""
    real = socket.getaddrinfo

    def resolve(name: str, port: object, *args: object, **kwargs: object) -> list:
        if name != host:
            return real(name, port, *args, **kwargs)  # type: ignore[arg-type]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_the_address_is_judged_again_at_each_delivery(
    customer: User, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    # given an endpoint whose host was public when it was added
    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = False  # type: ignore[attr-defined]
    _dns(monkeypatch, "hooks.example", "8.8.8.8")
    endpoint, _ = webhook_endpoint_create(
        user=customer, url="https://hooks.example/panel", events=ALL_EVENTS
    )
    # when its DNS now answers a private address beside the public one, then the metadata one
    for answer in (("8.8.8.8", "10.0.0.5"), ("169.254.169.254",)):
        _dns(monkeypatch, "hooks.example", *answer)
        Notification.objects.update(next_attempt_at=None)
        webhook_test_send(user=customer, endpoint_id=endpoint.pk)
        webhooks_deliver(budget_seconds=10)

    # then no delivery went out: each attempt is logged as refused and waits for its retry
    attempts = list(WebhookAttempt.objects.values_list("error_code", "status_code"))
    assert attempts and set(attempts) == {("address_refused", None)}
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.PENDING}


# --- Endpoints -------------------------------------------------------------------------------


def test_endpoint_secret_is_returned_once_and_stored_encrypted(
    customer: User, loopback: None
) -> None:
    endpoint, secret = webhook_endpoint_create(
        user=customer, url="http://127.0.0.1:9/a", events=ALL_EVENTS
    )
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret not in endpoint.secret_encrypted
    assert decrypt_secret(endpoint.secret_encrypted) == secret


def test_endpoints_are_limited_unique_and_need_events(customer: User, loopback: None) -> None:
    for n in range(MAX_ENDPOINTS):
        webhook_endpoint_create(user=customer, url=f"http://127.0.0.1:9/{n}", events=ALL_EVENTS)
    with pytest.raises(WebhookRefused) as refused:
        webhook_endpoint_create(user=customer, url="http://127.0.0.1:9/x", events=ALL_EVENTS)
    assert refused.value.code == "too_many"
    other = UserFactory()
    webhook_endpoint_create(user=other, url="http://127.0.0.1:9/0", events=ALL_EVENTS)
    with pytest.raises(WebhookRefused) as refused:
        webhook_endpoint_create(user=other, url="http://127.0.0.1:9/0", events=ALL_EVENTS)
    assert refused.value.code == "duplicate"
    with pytest.raises(WebhookRefused) as refused:
        webhook_endpoint_create(user=other, url="http://127.0.0.1:9/1", events=["nope"])
    assert refused.value.code == "no_events"
    with pytest.raises(WebhookRefused) as refused:
        webhook_endpoint_create(user=other, url="https://10.0.0.1/1", events=ALL_EVENTS)
    assert refused.value.code == "address_refused"
    assert WebhookEndpoint.objects.filter(user=other).count() == 1


def test_subscribe_again_keeps_the_endpoint_and_rotates_the_secret(
    customer: User, loopback: None
) -> None:
    first, secret1 = webhook_endpoint_subscribe(
        user=customer, url="http://127.0.0.1:9/p", events=ALL_EVENTS
    )
    again, secret2 = webhook_endpoint_subscribe(
        user=customer, url="http://127.0.0.1:9/p", events=["order.status_changed"]
    )
    assert again.pk == first.pk and secret1 != secret2 and again.is_panel_subscription
    assert decrypt_secret(WebhookEndpoint.objects.get().secret_encrypted) == secret2
    assert WebhookEndpoint.objects.get().events == ["order.status_changed"]


# --- Fan-out and the sender ------------------------------------------------------------------


def _endpoint(user: User, receiver: Receiver, events: list[str] | None = None) -> tuple:
    return webhook_endpoint_create(user=user, url=receiver.url(), events=events or ALL_EVENTS)


def test_status_changes_become_one_row_per_event_and_endpoint_once(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    finished_only, _ = webhook_endpoint_create(
        user=customer, url=receiver.url("/f"), events=["order.finished"]
    )
    everything, _ = _endpoint(customer, receiver)
    changes = [
        StatusChange(7, customer.pk, "In progress", "Pending", is_final=False),
        StatusChange(8, customer.pk, "Completed", "In progress", is_final=True),
    ]
    webhooks_for_orders(changes=changes)
    webhooks_for_orders(changes=changes)  # a replay writes nothing new
    rows = Notification.objects.filter(channel=Channel.WEBHOOK)
    assert sorted((r.ref, r.payload["type"], r.payload["data"]["order"]) for r in rows) == sorted(
        [
            (everything.pk, "order.status_changed", 7),
            (everything.pk, "order.status_changed", 8),
            (everything.pk, "order.finished", 8),
            (finished_only.pk, "order.finished", 8),
        ]
    )
    # one event has one id whichever endpoint hears it
    finished_ids = {r.payload["id"] for r in rows if r.payload["type"] == "order.finished"}
    assert len(finished_ids) == 1


def test_nobody_listening_writes_nothing(customer: User) -> None:
    webhooks_for_orders(changes=[StatusChange(1, customer.pk, "Completed", "Pending", True)])
    assert not Notification.objects.exists()


def test_sender_posts_signed_bodies_the_receiver_can_check(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    endpoint, secret = _endpoint(customer, receiver)
    webhooks_for_orders(changes=[StatusChange(42, customer.pk, "Completed", "In progress", True)])

    counts = webhooks_deliver(budget_seconds=10)

    assert counts.sent == 2 and counts.retried == 0
    assert len(receiver.received) == 2
    for request in receiver.received:
        assert independent_check(secret, request.body, request.headers["X-Panel-Signature"])
        event = json.loads(request.body)
        assert request.headers["X-Panel-Event-Id"] == event["id"]
        assert request.headers["X-Panel-Event"] == event["type"]
        assert event["data"]["order"] == 42
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    attempt = WebhookAttempt.objects.first()
    assert attempt.is_success and attempt.status_code == 200
    assert attempt.answer_excerpt == '{"ok": true}'


def test_failures_are_retried_with_growing_delays_then_given_up(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    receiver.answers = [500, 500, 200]
    endpoint, _ = _endpoint(customer, receiver, ["order.finished"])
    webhooks_for_orders(changes=[StatusChange(1, customer.pk, "Canceled", "Pending", True)])
    row = Notification.objects.get()

    webhooks_deliver(budget_seconds=10)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1 and row.error == "HTTP 500"
    assert row.next_attempt_at is not None
    # not due yet: the next run leaves it
    webhooks_deliver(budget_seconds=10)
    assert len(receiver.received) == 1

    Notification.objects.update(next_attempt_at=None)
    webhooks_deliver(budget_seconds=10)
    Notification.objects.update(next_attempt_at=None)
    webhooks_deliver(budget_seconds=10)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2
    assert [a.status_code for a in WebhookAttempt.objects.order_by("id")] == [500, 500, 200]
    # the same event id every time
    assert len({json.loads(r.body)["id"] for r in receiver.received}) == 1

    # the schedule: 30 s doubling to an hour, about a day in all
    assert retry_delay(0).total_seconds() == 30 and retry_delay(20).total_seconds() == 3600
    total = sum(retry_delay(n).total_seconds() for n in range(MAX_ATTEMPTS - 1))
    assert 20 * 3600 < total < 28 * 3600


def test_a_delivery_gives_up_after_the_last_attempt(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    receiver.answers = [503]
    _endpoint(customer, receiver, ["order.finished"])
    webhooks_for_orders(changes=[StatusChange(1, customer.pk, "Canceled", "Pending", True)])
    Notification.objects.update(attempts=MAX_ATTEMPTS - 1)
    webhooks_deliver(budget_seconds=10)
    row = Notification.objects.get()
    assert row.status == Status.FAILED and row.attempts == MAX_ATTEMPTS
    # the customer's resend puts it back with a fresh count
    assert webhook_resend(user=customer, notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 0


def test_resend_is_the_owners_only_and_not_while_in_flight(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    endpoint, _ = _endpoint(customer, receiver)
    row = webhook_test_send(user=customer, endpoint_id=endpoint.pk)
    assert not webhook_resend(user=customer, notification_id=row.pk)  # still pending
    webhooks_deliver(budget_seconds=10)
    assert not webhook_resend(user=UserFactory(), notification_id=row.pk)
    assert webhook_resend(user=customer, notification_id=row.pk)
    webhooks_deliver(budget_seconds=10)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["ping", "ping"]
    assert WebhookAttempt.objects.count() == 2


def test_deleting_an_endpoint_drops_its_queue(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    endpoint, _ = _endpoint(customer, receiver)
    webhook_test_send(user=customer, endpoint_id=endpoint.pk)
    assert not webhook_endpoint_delete(user=UserFactory(), endpoint_id=endpoint.pk)
    assert webhook_endpoint_delete(user=customer, endpoint_id=endpoint.pk)
    webhooks_deliver(budget_seconds=10)
    assert receiver.received == []
    assert Notification.objects.get().status == Status.SKIPPED


def test_a_row_a_dead_sender_left_mid_send_is_sent_again(
    customer: User, receiver: Receiver, loopback: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from notifications.delivery import outbox_release_expired

    endpoint, _ = _endpoint(customer, receiver)
    row = webhook_test_send(user=customer, endpoint_id=endpoint.pk)
    past = timezone.now() - timedelta(minutes=1)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.SENDING, lease_until=past, claim_token="dead"
    )
    outbox_release_expired(now=timezone.now())  # the email sender leaves webhook rows alone
    assert Notification.objects.get().status == Status.SENDING
    webhooks_deliver(budget_seconds=10)
    assert Notification.objects.get().status == Status.SENT and len(receiver.received) == 1


# --- Balance low -----------------------------------------------------------------------------


def test_balance_low_fires_once_per_crossing(db: None, receiver: Receiver, loopback: None) -> None:
    user = UserFactory(funds=Decimal(100))
    endpoint, _ = webhook_endpoint_create(
        user=user, url=receiver.url(), events=["balance.low"], balance_threshold=Decimal(50)
    )
    assert webhooks_balance_watch() == 0
    balance_debit(user_id=user.pk, amount=Decimal(60), memo="test")  # 40: under
    assert webhooks_balance_watch() == 1
    assert webhooks_balance_watch() == 0  # still under: no second event
    balance_debit(user_id=user.pk, amount=Decimal(10), memo="test")
    assert webhooks_balance_watch() == 0
    balance_credit(user_id=user.pk, amount=Decimal(100), memo="test")  # 130: re-armed
    assert webhooks_balance_watch() == 0
    balance_debit(user_id=user.pk, amount=Decimal(90), memo="test")  # 40 again
    assert webhooks_balance_watch() == 1
    rows = Notification.objects.filter(channel=Channel.WEBHOOK).order_by("id")
    assert [r.payload["data"] for r in rows] == [
        {"balance": "40", "threshold": "50", "currency": "USD"},
        {"balance": "40", "threshold": "50", "currency": "USD"},
    ]
    assert rows[0].payload["id"] != rows[1].payload["id"]
    webhooks_deliver(budget_seconds=10)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["balance.low"] * 2


# --- The API page ----------------------------------------------------------------------------


def test_api_page_adds_an_endpoint_and_shows_its_secret_once(
    client: Client, customer: User, loopback: None
) -> None:
    client.force_login(customer)
    page = client.get(reverse("api_docs"))
    assert b'id="webhooks"' in page.content and b"Add an endpoint" in page.content
    answer = client.post(
        reverse("webhook_add"),
        {
            "url": "http://127.0.0.1:9/hook",
            "events": ["order.finished", "balance.low"],
            "balance_threshold": "5",
        },
    )
    endpoint = WebhookEndpoint.objects.get(user=customer)
    secret = decrypt_secret(endpoint.secret_encrypted)
    assert secret.encode() in answer.content
    assert (
        "no-store" in answer.headers.get("Cache-Control", "")
        or "max-age=0" in answer.headers["Cache-Control"]
    )
    assert endpoint.events == ["order.finished", "balance.low"]
    assert endpoint.balance_threshold == Decimal(5)
    again = client.get(reverse("api_docs"))
    assert secret.encode() not in again.content and b"127.0.0.1:9/hook" in again.content


def test_api_page_refuses_a_private_address_with_a_reason(client: Client, customer: User) -> None:
    client.force_login(customer)
    answer = client.post(
        reverse("webhook_add"), {"url": "https://192.168.1.10/hook", "events": ["order.finished"]}
    )
    assert b"public addresses only" in answer.content
    assert not WebhookEndpoint.objects.exists()


def test_api_page_actions_touch_only_the_owners_endpoints(
    client: Client, customer: User, receiver: Receiver, loopback: None
) -> None:
    endpoint, _ = _endpoint(customer, receiver)
    intruder = UserFactory()
    client.force_login(intruder)
    client.post(reverse("webhook_test", args=[endpoint.pk]))
    client.post(reverse("webhook_delete", args=[endpoint.pk]))
    client.post(reverse("webhook_update", args=[endpoint.pk]), {"events": ["balance.low"]})
    endpoint.refresh_from_db()
    assert endpoint.events == ALL_EVENTS and not Notification.objects.exists()

    client.force_login(customer)
    client.post(reverse("webhook_test", args=[endpoint.pk]))
    webhooks_deliver(budget_seconds=10)
    page = client.get(reverse("api_docs"))
    assert b"Delivered" in page.content and b"HTTP 200" in page.content
    client.post(
        reverse("webhook_update", args=[endpoint.pk]),
        {"events": ["order.finished"], "balance_threshold": ""},
    )
    endpoint.refresh_from_db()
    assert endpoint.events == ["order.finished"]
    client.post(reverse("webhook_delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()


def test_api_page_in_vietnamese(
    client: Client, customer: User, receiver: Receiver, loopback: None
) -> None:
    customer.language = "vi"
    customer.save(update_fields=["language"])
    _endpoint(customer, receiver)
    client.force_login(customer)
    page = client.get(reverse("api_docs")).content.decode()
    assert "Webhook" in page and "Add an endpoint" not in page


@pytest.mark.django_db(transaction=True)
def test_racing_subscriptions_of_one_url_make_one_endpoint(settings: object) -> None:
    import threading

    from django.db import connection

    settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK = True  # type: ignore[attr-defined]
    user = UserFactory()
    secrets: list[str] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def subscribe() -> None:
        try:
            barrier.wait()
            _, secret = webhook_endpoint_subscribe(
                user=user, url="http://127.0.0.1:9/race", events=ALL_EVENTS
            )
            secrets.append(secret)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=subscribe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(secrets) == 4
    endpoint = WebhookEndpoint.objects.get(user=user)
    assert decrypt_secret(endpoint.secret_encrypted) in secrets
