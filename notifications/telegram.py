"""The one module that talks HTTP to Telegram's Bot API (like providers/client for upstreams).

It tells the three outcomes apart, because each gets a different reaction in the sender:
never sent (retry later), rejected (do not retry), or unknown (never resent automatically).
The bot token is part of the URL, so it is kept out of every error message.
"""

import httpx
from django.conf import settings

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_TEXT = 4096  # Telegram's limit for one message


class TelegramError(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class TelegramNeverSent(TelegramError):
    """The request provably did not reach Telegram, or Telegram refused to process it (429)."""


class TelegramRejected(TelegramError):
    """Telegram answered that it will not deliver this (bad token, unknown chat, bad text)."""


class TelegramAmbiguous(TelegramError):
    """The request may have been processed: a timeout after sending, a 5xx, a broken answer."""


def _clean(text: str) -> str:
    token = settings.PANEL_TELEGRAM_BOT_TOKEN
    return text.replace(token, "***")[:300] if token else text[:300]


def telegram_send(*, text: str) -> None:
    """Send `text` to the operators' chat. Raises one of the three errors above."""
    base = settings.PANEL_TELEGRAM_API_URL.rstrip("/")
    url = f"{base}/bot{settings.PANEL_TELEGRAM_BOT_TOKEN}/sendMessage"
    body = {
        "chat_id": settings.PANEL_TELEGRAM_CHAT_ID,
        "text": text[:MAX_TEXT],
        "disable_web_page_preview": True,
    }
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT, pool=CONNECT_TIMEOUT)
    try:
        response = httpx.post(url, json=body, timeout=timeout, follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TelegramNeverSent(_clean(f"{type(exc).__name__}: {exc}")) from None
    except httpx.HTTPError as exc:
        raise TelegramAmbiguous(_clean(f"{type(exc).__name__}: {exc}")) from None
    _check(response)


def _check(response: httpx.Response) -> None:
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    description = _clean(str(answer.get("description") or f"HTTP {response.status_code}"))
    if response.status_code == 429:
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        seconds = float(retry_after) if isinstance(retry_after, int | float) else None
        raise TelegramNeverSent(description, retry_after=seconds)
    if response.status_code >= 500:
        raise TelegramAmbiguous(description)
    if response.status_code != 200 or answer.get("ok") is not True:
        if response.status_code == 200:
            raise TelegramAmbiguous(f"unexpected answer: {description}")
        raise TelegramRejected(description)
