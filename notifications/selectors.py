"""Reads about the customers' Telegram bot and the chats linked to it."""

from accounts.models import User
from notifications.models import TelegramBot, TelegramLink


def telegram_bot_active() -> TelegramBot | None:
    """The customers' bot when it is enabled and has a token, else None."""
    bot = TelegramBot.objects.filter(is_enabled=True).exclude(token_encrypted="").first()
    return bot


def telegram_link_of(*, user: User) -> TelegramLink | None:
    return TelegramLink.objects.filter(user=user).first()


def telegram_chat_user(*, chat_id: int) -> User | None:
    """The active account linked to this chat, if any."""
    link = (
        TelegramLink.objects.select_related("user")
        .filter(chat_id=chat_id, user__is_active=True)
        .first()
    )
    return link.user if link else None


def telegram_chats(*, user_ids: set[int]) -> dict[int, int]:
    """user id → linked chat id, for the users among `user_ids` that have one."""
    rows = TelegramLink.objects.filter(user_id__in=user_ids, chat_id__isnull=False)
    return {
        user_id: chat_id for user_id, chat_id in rows.values_list("user_id", "chat_id") if chat_id
    }
