"""Register the customers' bot's webhook with Telegram (the admin's action does the same)."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from notifications.models import TelegramBot
from notifications.services import telegram_webhook_register
from notifications.telegram import TelegramError


class Command(OperatorCommand):
    summary = _("Point the customers' Telegram bot at this panel (getMe, then setWebhook).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help=gettext("The panel's public https address."))
        parser.add_argument("--token", default="", help=gettext("Store this bot token first."))
        parser.add_argument("--enable", action="store_true", help=gettext("Switch the bot on."))

    def handle(self, *args: Any, **options: Any) -> None:
        bot = TelegramBot.objects.first() or TelegramBot()
        if options["token"]:
            bot.token = options["token"].strip()
        if options["enable"]:
            bot.is_enabled = True
        if not bot.token_encrypted:
            raise CommandError(gettext("No bot token: give --token or set it in the admin."))
        if not (options["url"] or bot.site_url):
            raise CommandError(gettext("No panel address: give --url https://panel.example."))
        try:
            bot = telegram_webhook_register(bot=bot, site_url=options["url"])
        except TelegramError as exc:
            raise CommandError(
                gettext("Telegram refused: %(error)s") % {"error": exc.message}
            ) from None
        self.stdout.write(
            gettext("webhook registered for @%(bot)s at %(url)s")
            % {"bot": bot.username, "url": bot.site_url}
        )
