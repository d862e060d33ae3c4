"""The account page's Telegram box, the notification choices, and the admin's bot settings."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.models import Preferences, TelegramBot, TelegramLink
from tests.bot.conftest import SECRET, link
from tests.bot.fake_bot_api import FakeBotApi
from tests.factories import UserFactory


@pytest.fixture
def customer_client(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def test_no_telegram_box_while_the_bot_is_off(customer_client: Client) -> None:
    page = customer_client.get(reverse("account")).content.decode()
    assert 'id="telegram"' not in page and "in Telegram instead of email" not in page


def test_link_shows_a_one_time_code_and_the_deep_link(
    bot: TelegramBot, customer_client: Client, customer: User
) -> None:
    response = customer_client.post(reverse("telegram_link"))
    assert response.status_code == 302 and response["Location"].endswith("#telegram")
    code = TelegramLink.objects.get(user=customer).code
    page = customer_client.get(reverse("account")).content.decode()
    assert f"https://t.me/panel_test_bot?start={code}" in page
    assert f"/start {code}" in page


def test_a_linked_account_chooses_telegram_per_kind_and_unlinks_in_one_click(
    bot: TelegramBot, customer_client: Client, customer: User
) -> None:
    link(customer)
    page = customer_client.get(reverse("account")).content.decode()
    assert "Unlink Telegram" in page and 'name="telegram_order_final"' in page

    customer_client.post(
        reverse("notification_preferences"),
        {"email_order_final": "on", "telegram_order_final": "on", "email_ticket_answered": "on"},
    )
    preferences = Preferences.objects.get(user=customer)
    assert preferences.wants_telegram("order_final")
    assert not preferences.wants_telegram("ticket_answered") and preferences.wants(
        "ticket_answered"
    )

    customer_client.post(reverse("telegram_unlink"))
    assert not TelegramLink.objects.filter(user=customer).exists()
    assert "Link Telegram" in customer_client.get(reverse("account")).content.decode()


def test_the_page_speaks_vietnamese(bot: TelegramBot, client: Client) -> None:
    user = UserFactory(language="vi")
    client.force_login(user)
    client.post(reverse("telegram_link"))
    page = client.get(reverse("account")).content.decode()
    assert "Liên kết Telegram" in page or "Mã mới" in page


def test_the_admin_stores_the_token_encrypted_and_registers_the_webhook(
    fake_api: FakeBotApi, admin_client_staff: Client
) -> None:
    response = admin_client_staff.post(
        reverse("admin:notifications_telegrambot_add"),
        {"new_token": "987:SECRET", "site_url": "https://panel.example", "is_enabled": "on"},
    )
    assert response.status_code == 302
    bot = TelegramBot.objects.get()
    assert bot.token == "987:SECRET" and "987:SECRET" not in bot.token_encrypted

    admin_client_staff.post(
        reverse("admin:notifications_telegrambot_changelist"),
        {"action": "register_webhook", "_selected_action": [bot.pk]},
    )
    bot.refresh_from_db()
    [hook] = fake_api.sent("setWebhook")
    assert hook["path"] == "/bot987:SECRET/setWebhook"
    assert hook["body"]["url"] == f"https://panel.example/telegram/webhook/{bot.webhook_secret}/"
    assert hook["body"]["secret_token"] == bot.webhook_secret
    assert bot.username == "panel_test_bot" and bot.webhook_set_at is not None
    menus = {
        call["body"].get("language_code", ""): call["body"]["commands"]
        for call in fake_api.sent("setMyCommands")
    }
    assert {"", "en", "vi"} <= menus.keys()
    assert {"command": "funds", "description": "Nạp tiền"} in menus["vi"]


def test_the_token_is_not_required_again_and_enabling_needs_one(
    db: None, admin_client_staff: Client
) -> None:
    response = admin_client_staff.post(
        reverse("admin:notifications_telegrambot_add"),
        {"new_token": "", "site_url": "https://panel.example", "is_enabled": "on"},
    )
    assert response.status_code == 200 and not TelegramBot.objects.exists()


def test_the_command_registers_the_webhook(bot: TelegramBot, fake_api: FakeBotApi) -> None:
    out = StringIO()
    call_command("telegram_webhook", "--url", "https://other.example/", stdout=out)
    assert "webhook registered for @panel_test_bot at https://other.example" in out.getvalue()
    assert fake_api.sent("setWebhook")[-1]["body"]["url"] == (
        f"https://other.example/telegram/webhook/{SECRET}/"
    )


def test_the_command_without_a_token_says_so(db: None) -> None:
    with pytest.raises(CommandError, match="No bot token"):
        call_command("telegram_webhook", "--url", "https://panel.example")


@pytest.fixture
def admin_client_staff(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client
