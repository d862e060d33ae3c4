"""The bot end to end: updates posted to the webhook are handled by a real Celery worker, which
answers through the fake Bot API on loopback and forwards the order to the sandbox provider."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from bot.models import BotUpdate
from notifications.models import Notification, TelegramBot
from notifications.services import preferences_update
from orders.models import DispatchState, Order, Source
from providers.models import Service, ServiceType
from providers.services import catalog_sync, provider_create
from sandbox import SandboxConfig, SandboxServer
from tests.bot.conftest import CHAT, SECRET, link, message, post_update, tap
from tests.bot.fake_bot_api import FakeBotApi
from tests.e2e.processes import (
    FAST_PANEL,
    Process,
    celery_worker,
    flush_run_broker,
    shared_database_url,
    wait_until,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def worker(transactional_db: None, api: FakeBotApi) -> Iterator[Process]:
    flush_run_broker()
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings_test",
        "DATABASE_URL": shared_database_url(),
        "PANEL_TELEGRAM_API_URL": api.url,
        "PANEL_NOTIFICATIONS_SECONDS": "1",
        **FAST_PANEL,
    }
    process = celery_worker(env)
    yield process
    process.stop()


def test_a_customer_orders_in_vietnamese_through_the_bot_and_a_real_worker(
    api: FakeBotApi, worker: Process, client: Client
) -> None:
    bot = TelegramBot(webhook_secret=SECRET, site_url="https://panel.example", is_enabled=True)
    bot.username, bot.token = "panel_test_bot", "123456:TEST-token"
    bot.save()
    config = SandboxConfig(services=20, seed=3, pending_seconds=0.5, run_seconds=1.5)
    with SandboxServer(config, port=0) as sandbox:
        provider = provider_create(name="Sandbox", api_url=sandbox.url, api_key="sandbox-key")
        catalog_sync(provider=provider)
        service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
        assert service is not None
        user = UserFactory(funds=Decimal(100), language="vi")
        link(user)
        preferences_update(user=user, email_kinds=["order_final"], telegram_kinds=["order_final"])

        def say(update: dict[str, Any]) -> None:
            before = len(api.texts())
            assert post_update(client, update) == 200
            wait_until(lambda: len(api.texts()) > before, timeout=30, what="the bot's answer")
            wait_until(
                lambda: not BotUpdate.objects.filter(handled_at__isnull=True).exists(),
                timeout=30,
                what="the update handled",
            )

        say(message("/start"))
        say(tap("b"))
        say(tap("n:0"))
        say(tap(f"g:{service.category_id}:0"))
        say(tap(f"v:{service.pk}"))
        say(message("https://instagram.com/p/telegram-e2e"))
        say(message(str(service.min)))
        place = api.button("p:")
        say(tap(place))
        say(tap(place))
        order = Order.objects.get(user=user)
        assert order.source == Source.TELEGRAM
        wait_until(
            lambda: Order.objects.get(pk=order.pk).dispatch_state == DispatchState.SENT,
            timeout=60,
            what="the order forwarded to the sandbox",
            logs=[worker],
        )
        say(tap(f"s:{order.pk}"))
        # the order finishes at the sandbox; the outbox tells the chat, not the mailbox
        wait_until(
            lambda: Notification.objects.filter(
                user=user, kind="order_final", status="sent", sent_via="telegram"
            ).exists(),
            timeout=90,
            what="the order's end told in the chat",
            logs=[worker],
        )
        told = api.sent("sendMessage")[-1]["body"]
        assert told["chat_id"] == CHAT and told["text"].startswith(("✅", "⚠️", "↩️"))
        assert f"Đơn hàng {order.pk} " in told["text"]
    user.refresh_from_db()
    order.refresh_from_db()
    assert user.balance == Decimal(100) - order.net_charge
    assert Order.objects.filter(user=user).count() == 1
    transcript = "\n---\n".join(api.texts())
    assert f"Đơn hàng #{order.pk}" in transcript
    assert "Đã thực hiện rồi" in transcript
