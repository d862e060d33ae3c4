"""One update from Telegram, handled once: who is writing, in which language, and what to
answer. Messages are commands or a conversation's next answer; button taps carry short codes
(callback_data, at most 64 bytes):

    m  menu             b  balance            o:<page>  recent orders     s:<id>  an order
    r:<id>:<token>  refill        c:<id>  ask to cancel        x:<id>:<token>  cancel
    n:<page>  platforms    l:<platform>:<page>  categories    g:<category>:<page>  services
    v:<service>  order this service
    p:<token>  place the order    f  add funds    t  open a ticket    k:<token>  send the ticket
"""

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from bot import actions, screens
from bot.models import BotUpdate
from bot.screens import Chat, Reply
from notifications.models import TelegramBot
from notifications.selectors import telegram_bot_active, telegram_chat_user
from notifications.services import telegram_link_claim, telegram_unlink
from notifications.telegram import (
    TelegramError,
    bot_answer_callback,
    bot_send_message,
    bot_send_photo,
)
from providers.platforms import Platform

logger = logging.getLogger(__name__)

KEEP_UPDATES = timedelta(days=2)  # Telegram gives up resending long before
UNTAKEN_AFTER = timedelta(minutes=2)
MAX_TEXT_IN = 4096


def bot_update_handle(*, update_pk: int) -> None:
    """Take the update (at most once, whatever happens after), work out the answer, send it."""
    taken = BotUpdate.objects.filter(pk=update_pk, handled_at__isnull=True).update(
        handled_at=timezone.now()
    )
    bot = telegram_bot_active()
    if not taken or bot is None:
        return
    update = BotUpdate.objects.values_list("payload", flat=True).get(pk=update_pk)
    chat = _chat_of(update, bot)
    if chat is None:
        return
    callback = update.get("callback_query")
    with translation.override(chat.language):
        if _throttled(chat):
            _send(bot, chat, callback_id=callback.get("id") if callback else None)
            return
        try:
            if callback:
                _on_tap(chat, str(callback.get("data") or ""))
            else:
                _on_message(chat, str(update["message"].get("text") or "")[:MAX_TEXT_IN])
        except Exception:
            logger.exception("telegram update %s failed", update_pk)
            chat.replies = [Reply(gettext("Something went wrong. Please try again."))]
        _send(bot, chat, callback_id=callback.get("id") if callback else None)


def _chat_of(update: dict[str, Any], bot: TelegramBot) -> Chat | None:
    """The private chat the update comes from; groups and channels get nothing (privacy)."""
    callback = update.get("callback_query")
    message = callback.get("message") if isinstance(callback, dict) else update.get("message")
    sender = (callback or message or {}).get("from") if isinstance(message, dict) else None
    if not isinstance(message, dict) or not isinstance(sender, dict):
        return None
    chat = message.get("chat") or {}
    if chat.get("type") != "private" or not isinstance(chat.get("id"), int):
        return None
    user = telegram_chat_user(chat_id=chat["id"])
    if user is not None:
        language = user.preferred_language
    else:
        code = str(sender.get("language_code") or "")
        language = "vi" if code.startswith("vi") else settings.LANGUAGE_CODE
    name = " ".join(str(sender.get(key) or "") for key in ("first_name", "last_name")).strip()
    if sender.get("username"):
        name = f"{name} (@{sender['username']})".strip()
    return Chat(chat_id=chat["id"], bot=bot, user=user, language=language, name=name)


def _throttled(chat: Chat) -> bool:
    """Per chat and minute; the first message over the limit says so, the rest are dropped."""
    limit = settings.PANEL_TELEGRAM_BOT_RATE_PER_MINUTE
    key = f"bot:rate:{chat.chat_id}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, 120)
    count = cache.incr(key)
    if count == limit + 1:
        chat.say(gettext("Too many messages: please wait a minute."))
        chat.notice = gettext("Too many messages: please wait a minute.")
    return count > limit


def _on_message(chat: Chat, text: str) -> None:
    command, _space, argument = text.strip().partition(" ")
    command = command.split("@", 1)[0].lower()  # /start@SomeBot in a client's autocompletion
    if command == "/start" and argument.strip():
        _link(chat, argument.strip())
        return
    user = chat.user
    if user is None:
        screens.not_linked(chat)
        return
    simple = {
        "/start": lambda: screens.menu(chat, user),
        "/menu": lambda: screens.menu(chat, user),
        "/help": lambda: screens.menu(chat, user),
        "/balance": lambda: screens.balance(chat, user),
        "/orders": lambda: screens.recent_orders(chat, user, 0),
        "/order": lambda: screens.order_status(chat, user, argument.strip()),
        "/new": lambda: screens.platforms(chat),
        "/funds": lambda: screens.add_funds(chat, user),
        "/ticket": lambda: actions.ticket_start(chat),
        "/unlink": lambda: _unlink(chat, user),
    }
    if command.startswith("/"):
        actions.state_clear(chat.chat_id)  # a command ends whatever conversation was going on
        if command == "/cancel":
            screens.menu(chat, user, gettext("Stopped. What would you like to do?"))
        elif command in simple:
            simple[command]()
        else:
            screens.menu(chat, user, gettext("Unknown command. What would you like to do?"))
        return
    state = actions.state_of(chat.chat_id)
    step = state.get("step")
    if step in ("link", "quantity"):
        actions.order_text(chat, user, state, text)
    elif step == "ticket":
        actions.ticket_text(chat, state, text)
    else:
        screens.menu(chat, user)


def _on_tap(chat: Chat, data: str) -> None:
    user = chat.user
    if user is None:
        screens.not_linked(chat)
        return
    kind, *args = data.split(":")
    first = args[0] if args else ""
    number = int(first) if first.isdigit() else 0
    if kind in ("m", "n", "t", "f"):
        actions.state_clear(chat.chat_id)
    match kind, len(args):
        case "m", 0:
            screens.menu(chat, user)
        case "b", 0:
            screens.balance(chat, user)
        case "o", 1:
            screens.recent_orders(chat, user, number)
        case "s", 1:
            screens.order_status(chat, user, first)
        case "r", 2:
            actions.refill(chat, user, first, args[1])
        case "c", 1:
            screens.cancel_confirm(chat, user, first)
        case "x", 2:
            actions.cancel(chat, user, first, args[1])
        case "n", 1:
            screens.platforms(chat)
        case "l", 2:
            platform = first if first in Platform.values else ""
            screens.categories(chat, platform, int(args[1]) if args[1].isdigit() else 0)
        case "g", 2:
            screens.services(chat, user, number, int(args[1]) if args[1].isdigit() else 0)
        case "v", 1:
            actions.order_start(chat, user, first)
        case "p", 1:
            actions.order_place(chat, user, first)
        case "f", 0:
            screens.add_funds(chat, user)
        case "t", 0:
            actions.ticket_start(chat)
        case "k", 1:
            actions.ticket_send(chat, user, first)
        case _:
            screens.menu(chat, user)


def _link(chat: Chat, code: str) -> None:
    user = telegram_link_claim(code=code, chat_id=chat.chat_id, name=chat.name)
    if user is None:
        chat.say(
            gettext(
                "This code is not valid or has expired. Press “Link Telegram” on your account "
                "page for a new one."
            )
        )
        return
    chat.user = user
    actions.state_clear(chat.chat_id)
    with translation.override(user.preferred_language):
        screens.menu(
            chat,
            user,
            gettext("Linked to your account %(name)s. What would you like to do?")
            % {"name": user.username},
        )


def _unlink(chat: Chat, user: User) -> None:
    telegram_unlink(user=user)
    chat.user = None
    chat.say(gettext("Unlinked: this chat no longer reaches your account."))


def _send(bot: TelegramBot, chat: Chat, *, callback_id: object = None) -> None:
    """The answers, in order. A reply that fails is logged and not resent: the customer sees
    nothing happen and taps again, which is safe (writes carry one-time tokens)."""
    token = bot.token
    try:
        if isinstance(callback_id, str):
            bot_answer_callback(token=token, callback_query_id=callback_id, text=chat.notice)
        for reply in chat.replies:
            if reply.photo is not None:
                bot_send_photo(
                    token=token,
                    chat_id=chat.chat_id,
                    png=reply.photo,
                    caption=reply.text,
                    keyboard=reply.keyboard,
                )
            else:
                bot_send_message(
                    token=token, chat_id=chat.chat_id, text=reply.text, keyboard=reply.keyboard
                )
    except TelegramError as exc:
        logger.warning("telegram reply to chat %s failed: %s", chat.chat_id, exc.message)


def bot_updates_sweep() -> dict[str, int]:
    """Queue updates no worker took (the task was lost with the broker) and forget old ones."""
    now = timezone.now()
    untaken = list(
        BotUpdate.objects.filter(
            handled_at__isnull=True, received_at__lt=now - UNTAKEN_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    # By name, like orders.enqueue: the tasks import this module, not the other way round.
    task = current_app.tasks["bot.tasks.bot_update_task"]
    for pk in untaken:
        task.delay(pk)
    forgotten, _counts = BotUpdate.objects.filter(received_at__lt=now - KEEP_UPDATES).delete()
    return {"queued": len(untaken), "forgotten": forgotten}
