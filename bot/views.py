"""The customers' bot's webhook (docs/telegram-bot.md): Telegram posts each update here."""

import json
import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bot.models import BotUpdate
from bot.tasks import bot_update_task
from core.text import strip_unstorable
from notifications.selectors import telegram_bot_active

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # an update is a few KB; a bigger body is not Telegram's
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def _storable(value: Any) -> Any:
    """The update without what PostgreSQL cannot keep (NUL, lone surrogates): refusing it would
    make Telegram resend it for a day, and a dropped invisible character changes nothing."""
    if isinstance(value, str):
        return strip_unstorable(value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def webhook(request: HttpRequest, secret: str) -> HttpResponse:
    """Store the update once (by update_id) and hand it to a worker after the commit; 200 at
    once, so Telegram neither waits for the reply nor resends. A resent update answers 200 and
    does nothing."""
    bot = telegram_bot_active()
    header = request.headers.get(SECRET_HEADER, "")
    if (
        bot is None
        or not bot.webhook_secret
        or not secrets.compare_digest(secret, bot.webhook_secret)
        or not secrets.compare_digest(header, bot.webhook_secret)
    ):
        return HttpResponse(status=404)  # nothing here for anyone but Telegram
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        update = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int):
        return HttpResponse(status=400)
    try:
        with transaction.atomic():
            row = BotUpdate.objects.create(update_id=update_id, payload=_storable(update))
            transaction.on_commit(lambda: bot_update_task.delay(row.pk), robust=True)
    except IntegrityError:
        logger.info("telegram update %s received again: ignored", update_id)
    return JsonResponse({"ok": True})
