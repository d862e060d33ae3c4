"""The customers' bot against a fake Bot API on loopback: the webhook, linking, the screens and
every write, in the customer's language, once per tap."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from bot.models import BotUpdate
from notifications.delivery import notifications_deliver
from notifications.models import Notification, Status, TelegramLink
from notifications.services import (
    notify_deposit_credited,
    preferences_update,
    telegram_link_code_new,
)
from orders.models import Order, OrderStatus, Refill, Source
from orders.services import order_forward, order_place
from orders.services.polling import ORDERS, poll
from providers.models import Provider, Service, ServiceType
from sandbox import SandboxServer
from support.models import Ticket
from tests.bot.conftest import CHAT, SECRET, link, message, post_update, tap
from tests.bot.fake_bot_api import FakeBotApi
from tests.factories import CategoryFactory, ServiceFactory, UserFactory
from tests.support import sandbox_control

Send = Callable[[dict[str, Any]], None]


def test_the_webhook_refuses_a_wrong_secret_in_the_path_or_the_header(
    bot: object, client: Client
) -> None:
    update = message("/start")
    assert post_update(client, update, secret="wrong") == 404
    response = client.post(
        f"/telegram/webhook/{SECRET}/",
        update,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
    )
    assert response.status_code == 404 and not BotUpdate.objects.exists()


def test_an_update_telegram_resends_is_handled_once(
    send: Send, client: Client, fake_api: FakeBotApi
) -> None:
    update = message("/start")
    send(update)
    assert post_update(client, update) == 200  # Telegram retried: stored once, not redone
    assert BotUpdate.objects.count() == 1
    assert len(fake_api.sent("sendMessage")) == 1


def test_an_unlinked_chat_is_told_how_to_link_in_its_own_language(
    send: Send, fake_api: FakeBotApi
) -> None:
    send(message("/balance", language="vi"))
    assert "chưa được liên kết" in fake_api.texts()[-1]
    assert "https://panel.example/account/" in fake_api.texts()[-1]


def test_start_with_the_code_links_the_chat_and_answers_in_the_account_language(
    send: Send, fake_api: FakeBotApi
) -> None:
    user = UserFactory(language="vi")
    code = telegram_link_code_new(user=user).code
    send(message(f"/start {code}", language="en"))
    linked = TelegramLink.objects.get(user=user)
    assert linked.chat_id == CHAT and linked.code == "" and "Lan" in linked.telegram_name
    assert "Đã liên kết" in fake_api.texts()[-1]
    send(message(f"/start {code}"))  # used up
    assert "không hợp lệ" in fake_api.texts()[-1]


def test_an_expired_code_links_nothing(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory()
    code = telegram_link_code_new(user=user).code
    TelegramLink.objects.filter(user=user).update(code_expires_at=timezone.now() - timedelta(1))
    send(message(f"/start {code}"))
    assert TelegramLink.objects.get(user=user).chat_id is None
    assert "not valid or has expired" in fake_api.texts()[-1]


def test_a_chat_linked_again_moves_to_the_new_account(send: Send) -> None:
    first, second = UserFactory(), UserFactory()
    link(first)
    send(message(f"/start {telegram_link_code_new(user=second).code}"))
    assert not TelegramLink.objects.filter(user=first).exists()
    assert TelegramLink.objects.get(user=second).chat_id == CHAT


def test_balance_and_the_menu_buttons(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory(funds=Decimal("12.5"), language="en")
    link(user)
    send(message("/start"))
    assert [b["callback_data"] for b in fake_api.last_keyboard()[0]] == ["b", "o:0"]
    send(tap("b"))
    assert fake_api.texts()[-1] == "Your balance: 12.50 USD"
    assert fake_api.sent("answerCallbackQuery")


def _order_by_conversation(send: Send, fake_api: FakeBotApi, service_id: int) -> str:
    send(tap("n:0"))
    send(tap(fake_api.button("g:")))
    send(tap(f"v:{service_id}"))
    send(message("https://instagram.com/p/bot1"))
    send(message("1000"))
    return fake_api.button("p:")


def test_a_new_order_by_conversation_is_placed_once_and_charged_exactly(
    send: Send, fake_api: FakeBotApi
) -> None:
    user = UserFactory(funds=Decimal("10"), language="en")
    link(user)
    service = ServiceFactory(rate=Decimal("2.5"))
    place = _order_by_conversation(send, fake_api, service.pk)
    assert "Estimated charge: 2.50 USD" in fake_api.texts()[-1]

    send(tap(place))
    send(tap(place))  # a double tap

    order = Order.objects.get(user=user)
    assert order.source == Source.TELEGRAM and order.quantity == 1000
    assert order.charge == Decimal("2.50")
    user.refresh_from_db()
    assert user.balance == Decimal("7.50")
    texts = fake_api.texts()
    assert texts[-2] == f"Order #{order.pk} placed: charged 2.50 USD"
    assert texts[-1] == "Already done: nothing was placed or charged twice."


def test_a_wrong_quantity_is_asked_again_with_the_web_message(
    send: Send, fake_api: FakeBotApi
) -> None:
    user = UserFactory(funds=Decimal("10"))
    link(user)
    service = ServiceFactory(min=100)
    send(tap(f"v:{service.pk}"))
    send(message("https://instagram.com/p/bot2"))
    send(message("5"))
    assert fake_api.texts()[-1] == "The minimum is 100."
    assert not Order.objects.exists()


def test_cancel_an_unsent_order_refunds_it_once(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory(funds=Decimal("10"), language="en")
    link(user)
    service = ServiceFactory(rate=Decimal("2.5"))
    send(tap(_order_by_conversation(send, fake_api, service.pk)))
    order = Order.objects.get(user=user)
    send(tap(f"s:{order.pk}"))
    send(tap(f"c:{order.pk}"))
    yes = fake_api.button("x:")
    send(tap(yes))
    send(tap(yes))
    order.refresh_from_db()
    user.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and user.balance == Decimal("10.00")
    assert fake_api.texts()[-2] == f"Order #{order.pk} canceled: 2.50 USD refunded."
    assert fake_api.texts()[-1] == "Already done: nothing was placed or charged twice."


def test_refill_of_an_order_that_cannot_be_refilled_says_why(
    send: Send, fake_api: FakeBotApi
) -> None:
    user = UserFactory(funds=Decimal("10"))
    link(user)
    service = ServiceFactory()
    send(tap(_order_by_conversation(send, fake_api, service.pk)))
    order = Order.objects.get(user=user)
    send(tap(f"r:{order.pk}:abcdefghijklmnopqrstuvwxyz012345"))
    assert fake_api.texts()[-1].startswith(f"Order #{order.pk}: ")
    assert not order.refills.exists()


def test_add_funds_sends_the_vietqr_png_and_the_memo(
    send: Send, fake_api: FakeBotApi, settings: Any
) -> None:
    settings.PANEL_BANK_BIN, settings.PANEL_BANK_ACCOUNT = "970436", "0123456789"
    settings.PANEL_BANK_ACCOUNT_NAME, settings.PANEL_VND_RATE = "CONG TY PANEL", "25000"
    settings.PANEL_SEPAY_API_KEY = "sepay-key"
    user = UserFactory(language="vi")
    link(user)
    send(tap("f"))
    photo = fake_api.sent("sendPhoto")[-1]
    assert photo["photo"].startswith(b"\x89PNG")
    assert f"Nội dung chuyển khoản: NAP{user.pk}" in photo["body"]["caption"]


def test_a_ticket_is_opened_once_from_the_chat(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory()
    link(user)
    send(tap("t"))
    send(message("My order is slow, please check."))
    confirm = fake_api.button("k:")
    send(tap(confirm))
    send(tap(confirm))
    ticket = Ticket.objects.get(user=user)
    assert ticket.subject == "My order is slow, please check."
    assert fake_api.texts()[-2].startswith(f"Ticket #{ticket.pk} sent.")


def test_a_chat_over_the_rate_is_told_once_then_ignored(
    send: Send, fake_api: FakeBotApi, settings: Any
) -> None:
    settings.PANEL_TELEGRAM_BOT_RATE_PER_MINUTE = 3
    link(UserFactory())
    for _ in range(6):
        send(message("/balance"))
    assert fake_api.texts().count("Too many messages: please wait a minute.") == 1
    assert len(fake_api.sent("sendMessage")) == 4


def test_unlink_from_the_chat(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory()
    link(user)
    send(message("/unlink"))
    assert not TelegramLink.objects.filter(user=user).exists()
    send(message("/balance"))
    assert "not linked" in fake_api.texts()[-1]


@pytest.mark.parametrize("chosen", [True, False])
def test_a_notification_goes_to_telegram_or_email_as_chosen_once(
    bot: object, fake_api: FakeBotApi, chosen: bool, mailoutbox: list
) -> None:
    user: User = UserFactory(language="vi")
    link(user)
    kinds = ["deposit_credited"]
    preferences_update(user=user, email_kinds=kinds, telegram_kinds=kinds if chosen else [])
    notify_deposit_credited(deposit_id=7, user_id=user.pk, amount=Decimal("5"))
    notify_deposit_credited(deposit_id=7, user_id=user.pk, amount=Decimal("5"))  # a replay
    notifications_deliver()
    notifications_deliver()
    row = Notification.objects.get(user=user)
    assert row.status == Status.SENT
    if chosen:
        assert row.sent_via == "telegram" and not mailoutbox
        [sent] = fake_api.sent("sendMessage")
        assert sent["body"]["chat_id"] == CHAT and "Khoản nạp 7" in sent["body"]["text"]
    else:
        assert row.sent_via == "" and len(mailoutbox) == 1 and not fake_api.sent()


def test_a_customer_who_blocked_the_bot_fails_the_row_without_email(
    bot: object, fake_api: FakeBotApi, mailoutbox: list
) -> None:
    user = UserFactory()
    link(user)
    preferences_update(
        user=user, email_kinds=["deposit_credited"], telegram_kinds=["deposit_credited"]
    )
    fake_api.status = 403
    notify_deposit_credited(deposit_id=8, user_id=user.pk, amount=Decimal("5"))
    notifications_deliver()
    row = Notification.objects.get(user=user)
    assert row.status == Status.FAILED and row.sent_via == "telegram" and not mailoutbox


def test_an_update_with_text_the_database_cannot_keep_is_stored_without_it(
    send: Send, fake_api: FakeBotApi
) -> None:
    link(UserFactory())
    update = message("/balance\x00\ud800")
    send(update)
    stored = BotUpdate.objects.get(update_id=update["update_id"])
    assert stored.payload["message"]["text"] == "/balance"
    assert fake_api.texts()[-1].startswith("Your balance:")


def test_groups_get_no_answer(send: Send, fake_api: FakeBotApi) -> None:
    update = message("/start")
    update["message"]["chat"]["type"] = "group"
    send(update)
    assert not fake_api.sent()


def test_the_sweep_queues_an_update_no_worker_took_and_forgets_old_ones(
    bot: object, client: Client, settings: Any
) -> None:
    from bot.handling import bot_updates_sweep

    settings.CELERY_TASK_ALWAYS_EAGER = True
    old, lost = message("/start"), message("/start")
    assert post_update(client, old) == 200 and post_update(client, lost) == 200
    BotUpdate.objects.filter(update_id=old["update_id"]).update(
        received_at=timezone.now() - timedelta(days=3)
    )
    BotUpdate.objects.filter(update_id=lost["update_id"]).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    counts = bot_updates_sweep()
    assert counts["forgotten"] == 1
    assert BotUpdate.objects.get(update_id=lost["update_id"]).handled_at is not None


def test_the_category_buttons_speak_the_chats_language(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory(language="vi")
    link(user)
    ServiceFactory(category=CategoryFactory(name="TikTok Views", name_vi="Tăng view TikTok"))

    send(tap("n:0"))

    labels = [b["text"] for row in fake_api.last_keyboard() for b in row]
    assert "Tăng view TikTok (1)" in labels


def test_a_new_order_starts_with_the_platform_then_its_categories(
    send: Send, fake_api: FakeBotApi
) -> None:
    # given services on two platforms, and a category the operator moved to TikTok
    user = UserFactory(language="vi")
    link(user)
    facebook = ServiceFactory(category=CategoryFactory(name="Facebook Likes", platform="facebook"))
    ServiceFactory(category=CategoryFactory(name="TikTok Views", platform="tiktok"))
    moved = ServiceFactory(
        category=CategoryFactory(
            name="Short video views", platform="other", platform_override="tiktok"
        )
    )

    send(message("/new"))

    # the platforms in the order pages' order, with how many services each has
    assert fake_api.texts()[-1] == "Đặt đơn: chọn nền tảng."
    labels = [b["text"] for row in fake_api.last_keyboard() for b in row]
    assert labels[:2] == ["Facebook (1)", "TikTok (2)"]

    send(tap(fake_api.button("l:tiktok:")))

    assert fake_api.texts()[-1] == "Đặt đơn, TikTok: chọn chuyên mục."
    data = [b["callback_data"] for row in fake_api.last_keyboard() for b in row]
    assert f"g:{moved.category_id}:0" in data and f"g:{facebook.category_id}:0" not in data
    assert "n:0" in data  # back to the platforms

    send(tap(f"g:{moved.category_id}:0"))

    data = [b["callback_data"] for row in fake_api.last_keyboard() for b in row]
    assert f"v:{moved.pk}" in data and "l:tiktok:0" in data  # back to TikTok's categories


def test_one_platform_on_sale_skips_the_platform_step(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory(language="en")
    link(user)
    service = ServiceFactory(category=CategoryFactory(name="TikTok Views", platform="tiktok"))

    send(tap("n:0"))

    assert fake_api.texts()[-1] == "New order: choose a category."
    data = [b["callback_data"] for row in fake_api.last_keyboard() for b in row]
    assert data == [f"g:{service.category_id}:0", "m"]


def test_recent_orders_list_the_customers_own_and_page(send: Send, fake_api: FakeBotApi) -> None:
    user = UserFactory(funds=Decimal("100"), language="en")
    link(user)
    service = ServiceFactory(rate=Decimal("2.5"))
    mine = [
        order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"https://instagram.com/p/list{n}", "quantity": "100"},
            source=Source.WEB,
        )
        for n in range(6)
    ]
    stranger = UserFactory(funds=Decimal("10"))
    theirs = order_place(
        user=stranger,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/theirs", "quantity": "100"},
        source=Source.WEB,
    )

    send(message("/orders"))

    # five a page, newest first, each with its status button, and the next page
    data = [b["callback_data"] for row in fake_api.last_keyboard() for b in row]
    assert data[:5] == [f"s:{order.pk}" for order in reversed(mine[1:])]
    assert "o:1" in data and f"s:{theirs.pk}" not in data
    send(tap("o:1"))
    assert f"#{mine[0].pk} · " in fake_api.texts()[-1]

    # another customer's order is not shown, whatever its id
    send(message(f"/order {theirs.pk}"))
    assert fake_api.texts()[-1] == "Incorrect order ID"
    send(message(f"/order {mine[0].pk}"))
    assert fake_api.texts()[-1].startswith(f"Order #{mine[0].pk}\nService: ")


def test_a_completed_order_is_refilled_once_from_the_chat(
    send: Send, fake_api: FakeBotApi, catalog: Provider, sandbox: SandboxServer
) -> None:
    # given a customer's order of a refillable service, sent and Completed at the provider
    user = UserFactory(funds=Decimal("100"), language="en")
    link(user)
    service = (
        Service.objects.filter(provider=catalog, type=ServiceType.DEFAULT, has_refill=True)
        .order_by("pk")
        .first()
    )
    assert service is not None
    order = order_place(
        user=user,
        service_id=service.pk,
        fields={"link": "https://instagram.com/p/refill-bot", "quantity": str(service.min)},
        source=Source.WEB,
    )
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    sandbox_control(sandbox, "force", order=int(order.upstream_id), status="Completed")
    Order.objects.filter(pk=order.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    poll(ORDERS, catalog)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED

    # when the customer opens it and taps Refill twice
    send(message(f"/order {order.pk}"))
    refill = fake_api.button("r:")
    send(tap(refill))
    send(tap(refill))

    # then one refill is asked, and the second tap is told so
    made = Refill.objects.get(order=order)
    assert made.source == Source.TELEGRAM
    texts = fake_api.texts()
    assert texts[-2] == f"Refill #{made.pk} requested for order #{order.pk}."
    assert texts[-1] == "Already done: nothing was placed or charged twice."
