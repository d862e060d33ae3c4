"""The one module that talks HTTP to Telegram's Bot API (like providers/client for upstreams).

It tells the three outcomes apart, because each gets a different reaction in the sender:
never sent (retry later), rejected (do not retry), or unknown (never resent automatically).
The bot token is part of the URL, so it is kept out of every error message.

Two bots go through here: the operators' (PANEL_TELEGRAM_BOT_TOKEN, `telegram_send`) and the
customers' (its token in the admin, `bot_call` and the helpers under it, docs/telegram-bot.md).
"""

import json
from typing import Any

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


def _clean(text: str, token: str | None = None) -> str:
    token = settings.PANEL_TELEGRAM_BOT_TOKEN if token is None else token
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


def _check(response: httpx.Response, token: str | None = None) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    description = _clean(str(answer.get("description") or f"HTTP {response.status_code}"), token)
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
    return answer


# --- The customers' bot ----------------------------------------------------------------------

MAX_CAPTION = 1024  # Telegram's limit for a photo's caption
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for a button's callback_data
Keyboard = list[list[dict[str, str]]]


def bot_call(
    *,
    token: str,
    method: str,
    body: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Any:
    """One Bot API method with `body` (JSON, or form fields beside `files`); its `result`.
    Raises TelegramNeverSent, TelegramRejected or TelegramAmbiguous like `telegram_send`."""
    base = settings.PANEL_TELEGRAM_API_URL.rstrip("/")
    url = f"{base}/bot{token}/{method}"
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT, pool=CONNECT_TIMEOUT)
    try:
        if files:
            # multipart: nested values (a keyboard) travel as JSON text, as the Bot API wants
            fields = {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in body.items()
            }
            response = httpx.post(
                url, data=fields, files=files, timeout=timeout, follow_redirects=False
            )
        else:
            response = httpx.post(url, json=body, timeout=timeout, follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TelegramNeverSent(_clean(f"{type(exc).__name__}: {exc}", token)) from None
    except httpx.HTTPError as exc:
        raise TelegramAmbiguous(_clean(f"{type(exc).__name__}: {exc}", token)) from None
    return _check(response, token).get("result")


def _markup(keyboard: Keyboard | None) -> dict[str, Any]:
    return {"reply_markup": {"inline_keyboard": keyboard}} if keyboard else {}


def bot_send_message(
    *, token: str, chat_id: int, text: str, keyboard: Keyboard | None = None
) -> None:
    bot_call(
        token=token,
        method="sendMessage",
        body={
            "chat_id": chat_id,
            "text": text[:MAX_TEXT],
            "disable_web_page_preview": True,
            **_markup(keyboard),
        },
    )


def bot_send_photo(
    *, token: str, chat_id: int, png: bytes, caption: str, keyboard: Keyboard | None = None
) -> None:
    bot_call(
        token=token,
        method="sendPhoto",
        body={"chat_id": str(chat_id), "caption": caption[:MAX_CAPTION], **_markup(keyboard)},
        files={"photo": ("vietqr.png", png, "image/png")},
    )


def bot_answer_callback(*, token: str, callback_query_id: str, text: str = "") -> None:
    body: dict[str, Any] = {"callback_query_id": callback_query_id}
    if text:
        body["text"] = text[:200]
    bot_call(token=token, method="answerCallbackQuery", body=body)


def bot_set_webhook(*, token: str, url: str, secret_token: str) -> None:
    """Point the bot's updates at `url`; Telegram sends `secret_token` back in the
    X-Telegram-Bot-Api-Secret-Token header of each. Pending updates are kept."""
    bot_call(
        token=token,
        method="setWebhook",
        body={
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": ["message", "callback_query"],
        },
    )


def bot_set_commands(*, token: str, commands: list[tuple[str, str]], language: str = "") -> None:
    """The command menu Telegram apps show; with `language`, for users of that app language."""
    body: dict[str, Any] = {
        "commands": [{"command": name, "description": text[:256]} for name, text in commands]
    }
    if language:
        body["language_code"] = language
    bot_call(token=token, method="setMyCommands", body=body)


def bot_username(*, token: str) -> str:
    """The bot's @username (getMe), for the t.me links on the account page."""
    result = bot_call(token=token, method="getMe", body={})
    return str(result.get("username", "")) if isinstance(result, dict) else ""
