"""Status webhooks from an upstream copy of this panel (providers.services.webhooks subscribed
to them). The body is never trusted: after the signature (the secret the provider gave us,
compared in constant time, on a recent timestamp) and a first sighting of the event id, the
orders it names are only re-read with `status`, in a task, by the polling engine."""

import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.secrets import decrypt_secret
from notifications.webhooks.signing import SIGNATURE_HEADER, signature_is_valid
from providers.models import Provider

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
SEEN_SECONDS = 2 * 24 * 3600  # longer than the sender retries one event (about a day)
# Which rows an event type is about, and the field of `data` that names the upstream id.
HINTS = {
    "order.status_changed": ("order", "order"),
    "order.finished": ("order", "order"),
    "refill.finished": ("refill", "refill"),
}


def _answer(status: int, **body: object) -> JsonResponse:
    return JsonResponse(body, status=status)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def provider_webhook(request: HttpRequest, provider_id: int) -> JsonResponse:
    provider = (
        Provider.objects.filter(pk=provider_id, is_enabled=True)
        .exclude(webhook_secret_encrypted="")
        .first()
    )
    if provider is None:
        return _answer(404, error="unknown provider")
    length = request.headers.get("Content-Length") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return _answer(413, error="too large")
    body = request.body
    if not signature_is_valid(
        secret=decrypt_secret(provider.webhook_secret_encrypted),
        body=body,
        header=request.headers.get(SIGNATURE_HEADER, ""),
        tolerance_seconds=settings.PANEL_WEBHOOK_TOLERANCE_SECONDS,
    ):
        logger.warning("provider %s: webhook with a bad signature refused", provider.name)
        return _answer(401, error="bad signature")
    try:
        event = json.loads(body)
        event_id, event_type, data = str(event["id"]), str(event["type"]), event["data"]
    except (ValueError, KeyError, TypeError):
        return _answer(400, error="malformed body")
    hint = HINTS.get(event_type)
    if hint is None or not isinstance(data, dict) or data.get(hint[1]) in (None, ""):
        return _answer(200, ok=True, ignored=True)  # a ping, or an event we did not ask for
    seen = f"provider-hook:{provider.pk}:{event_id[:64]}"
    if not cache.add(seen, 1, SEEN_SECONDS):
        return _answer(200, ok=True, duplicate=True)
    from orders.enqueue import provider_queue
    from orders.tasks import provider_poll_hinted_task

    try:
        provider_poll_hinted_task.apply_async(
            (provider.pk, hint[0], [str(data[hint[1]])[:64]]),
            queue=provider_queue("poll", provider.pk),
        )
    except Exception:
        # The broker is away: forget the event and say so, so that the provider's sender tries
        # again (it retries for a day) instead of a hint lost until the next poll.
        cache.delete(seen)
        logger.exception("provider %s: webhook hint could not be queued", provider.name)
        return _answer(503, error="try again")
    return _answer(200, ok=True)
