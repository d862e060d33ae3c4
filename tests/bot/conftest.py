import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from bot.handling import bot_update_handle
from bot.models import BotUpdate
from notifications.models import TelegramBot
from notifications.services import telegram_link_claim, telegram_link_code_new
from tests.bot.fake_bot_api import FakeBotApi

SECRET = "s3cret-webhook-path-and-header_0123456789"
CHAT = 5550001
_ids = itertools.count(1000)


@pytest.fixture
def fake_api(settings: Any) -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        settings.PANEL_TELEGRAM_API_URL = api.url
        yield api


@pytest.fixture
def bot(db: None, fake_api: FakeBotApi) -> TelegramBot:
    row = TelegramBot(
        username="panel_test_bot",
        webhook_secret=SECRET,
        site_url="https://panel.example",
        is_enabled=True,
    )
    row.token = "123456:TEST-token"
    row.save()
    return row


def message(text: str, *, chat: int = CHAT, language: str = "en") -> dict[str, Any]:
    sender = {"id": chat, "first_name": "Lan", "username": "lan", "language_code": language}
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": 1,
            "from": sender,
            "chat": {"id": chat, "type": "private"},
            "text": text,
        },
    }


def tap(data: str, *, chat: int = CHAT) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"cb{next(_ids)}",
            "from": {"id": chat, "first_name": "Lan"},
            "message": {"message_id": 2, "chat": {"id": chat, "type": "private"}},
            "data": data,
        },
    }


def post_update(client: Client, update: dict[str, Any], secret: str = SECRET) -> int:
    response = client.post(
        reverse("telegram_webhook", args=[secret]),
        update,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    return response.status_code


@pytest.fixture
def send(bot: TelegramBot, client: Client) -> Callable[[dict[str, Any]], None]:
    """Post an update to the webhook and handle it in this process (the worker's part)."""

    def deliver(update: dict[str, Any]) -> None:
        assert post_update(client, update) == 200
        row = BotUpdate.objects.get(update_id=update["update_id"])
        bot_update_handle(update_pk=row.pk)

    return deliver


def link(user: User, chat: int = CHAT) -> None:
    code = telegram_link_code_new(user=user).code
    assert telegram_link_claim(code=code, chat_id=chat, name="Lan") == user
