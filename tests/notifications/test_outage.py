"""A Telegram outage never blocks or fails an order: alerts are written to the outbox in the
order's transaction and sent later by the sender, which records the outage and moves on."""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from notifications.delivery import notifications_deliver
from notifications.models import Kind, Notification, Status
from orders.alerts import needs_review_alerts_collect
from orders.models import DispatchState, Order, OrderStatus, Source
from orders.services import order_forward, order_place
from orders.services.polling import ORDERS, poll
from providers.errors import ProviderAuthError
from providers.models import Provider, Service
from providers.services import provider_check
from sandbox import SandboxServer
from tests.notifications.telegram_stub import TelegramStub
from tests.support import sandbox_control


@pytest.fixture
def broken_telegram(settings: object) -> Iterator[TelegramStub]:
    with TelegramStub() as server:
        server.answer(500, {"ok": False, "error_code": 500, "description": "Internal"})
        settings.PANEL_TELEGRAM_BOT_TOKEN = "1:x"  # type: ignore[attr-defined]
        settings.PANEL_TELEGRAM_CHAT_ID = "-1"  # type: ignore[attr-defined]
        settings.PANEL_TELEGRAM_API_URL = server.url  # type: ignore[attr-defined]
        yield server


def _sent_order(user: User, provider: Provider, link: str = "https://instagram.com/p/x") -> Order:
    service = Service.objects.filter(provider=provider, type="Default").order_by("pk").first()
    order = order_place(
        user=user,
        service_id=service.pk,
        fields={"link": link, "quantity": "1000"},
        source=Source.API,
    )
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    return order


def test_orders_finish_and_refund_while_telegram_answers_500(
    broken_telegram: TelegramStub, catalog: Provider, sandbox: SandboxServer, customer: User
) -> None:
    # given two orders upstream, one canceled, one whose status goes nowhere (needs review)
    canceled = _sent_order(customer, catalog)
    lost = _sent_order(customer, catalog, "https://instagram.com/p/y")  # one open order per link
    sandbox_control(sandbox, "force", order=int(canceled.upstream_id), status="Canceled")
    Order.objects.filter(pk=lost.pk).update(dispatch_state=DispatchState.NEEDS_REVIEW)
    from orders.lifecycle.events import event_record

    event_record(lost, field="dispatch", new=DispatchState.NEEDS_REVIEW, actor="worker")
    Order.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))

    # when polling, the alert collector and the sender all run during the outage
    poll(ORDERS, catalog)
    needs_review_alerts_collect()
    counts = notifications_deliver()

    # then: the order is final and refunded; the alert's outcome is recorded, nothing raised
    canceled.refresh_from_db()
    assert canceled.status == OrderStatus.CANCELED and canceled.refunded == canceled.charge
    assert counts.unknown == 1 and len(broken_telegram.paths) == 1
    alert = Notification.objects.get(kind=Kind.OPS_NEEDS_REVIEW)
    assert alert.status == Status.UNKNOWN
    customer.refresh_from_db()
    assert customer.balance == Decimal(100) - lost.charge


def test_a_provider_rejecting_the_key_alerts_once(
    broken_telegram: TelegramStub, catalog: Provider
) -> None:
    catalog.api_key = "wrong"
    for _ in range(3):
        with pytest.raises(ProviderAuthError):
            provider_check(provider=catalog)

    alerts = Notification.objects.filter(kind=Kind.OPS_CREDENTIALS)
    assert alerts.count() == 1 and alerts.get().payload["name"] == catalog.name


def test_a_provider_balance_falling_below_its_threshold_alerts_once(
    broken_telegram: TelegramStub, catalog: Provider
) -> None:
    # given a provider last seen with plenty, whose next answers are below the threshold
    Provider.objects.filter(pk=catalog.pk).update(
        balance=Decimal("2000000000"), low_balance_threshold=Decimal("1000000000")
    )
    catalog.refresh_from_db()

    provider_check(provider=catalog)
    provider_check(provider=catalog)

    alerts = Notification.objects.filter(kind=Kind.OPS_LOW_BALANCE)
    assert sorted(alerts.values_list("channel", flat=True)) == ["staff_email", "telegram"]
