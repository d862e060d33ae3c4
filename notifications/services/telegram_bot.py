"""The customers' Telegram bot (docs/telegram-bot.md)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from notifications.models import TelegramBot, TelegramLink
from notifications.telegram import bot_set_commands, bot_set_webhook, bot_username

LINK_CODE_LIFETIME = timedelta(minutes=15)
# No 0/O or 1/I: a customer may type the code rather than open the link.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8


def _link_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def telegram_link_code_new(*, user: User) -> TelegramLink:
    """A fresh one-time code for the account page; a linked chat stays linked (the row only
    carries the new code), an older code stops working."""
    link, _created = TelegramLink.objects.update_or_create(
        user=user,
        defaults={
            "code": _link_code(),
            "code_expires_at": timezone.now() + LINK_CODE_LIFETIME,
        },
    )
    return link


def telegram_link_claim(*, code: str, chat_id: int, name: str = "") -> User | None:
    """Link `chat_id` to the account whose unexpired code this is, and use the code up. A chat
    linked to another account moves to this one (one account per chat). None: no such code."""
    code = code.strip().upper()
    if not code or len(code) > 32:
        return None
    with transaction.atomic():
        link = (
            TelegramLink.objects.select_for_update()
            .select_related("user")
            .filter(code=code, code_expires_at__gt=timezone.now(), user__is_active=True)
            .first()
        )
        if link is None:
            return None
        TelegramLink.objects.filter(chat_id=chat_id).exclude(pk=link.pk).delete()
        link.chat_id, link.telegram_name = chat_id, name[:128]
        link.code, link.code_expires_at, link.linked_at = "", None, timezone.now()
        link.save()
    return link.user


def telegram_unlink(*, user: User) -> bool:
    """One click on the account page (or /unlink in the chat): the chat gets nothing more."""
    deleted, _counts = TelegramLink.objects.filter(user=user).delete()
    return bool(deleted)


# The bot's commands (bot/handling.py answers them), as Telegram apps list them.
BOT_COMMANDS = (
    ("menu", gettext_noop("Menu")),
    ("balance", gettext_noop("Balance")),
    ("orders", gettext_noop("Recent orders")),
    ("new", gettext_noop("New order")),
    ("funds", gettext_noop("Add funds")),
    ("ticket", gettext_noop("Open a ticket")),
    ("cancel", gettext_noop("Stop the conversation")),
    ("unlink", gettext_noop("Unlink Telegram")),
)


def _register_commands(token: str) -> None:
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            commands = [(name, gettext(text)) for name, text in BOT_COMMANDS]
        # The default list (no language) is the panel's language, for every other app language.
        if language == settings.LANGUAGE_CODE:
            bot_set_commands(token=token, commands=commands)
        bot_set_commands(token=token, commands=commands, language=language)


def telegram_webhook_register(*, bot: TelegramBot, site_url: str = "") -> TelegramBot:
    """Ask Telegram (getMe, setWebhook) to send the bot's updates to this panel, under a secret
    of its own; calling it again (a new address, a new token) registers the new one."""
    if site_url:
        bot.site_url = site_url.rstrip("/")
    if not bot.webhook_secret:
        bot.webhook_secret = secrets.token_urlsafe(32)
    token = bot.token
    bot.username = bot_username(token=token) or bot.username
    url = bot.site_url.rstrip("/") + reverse("telegram_webhook", args=[bot.webhook_secret])
    bot_set_webhook(token=token, url=url, secret_token=bot.webhook_secret)
    _register_commands(token)
    bot.webhook_set_at = timezone.now()
    bot.save()
    return bot
