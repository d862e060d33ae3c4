"""From a raw HTTP answer (or a transport failure) to JSON data or the right ProviderError.

READ actions are safe to repeat, so every failure of theirs is ProviderUnavailable. WRITE actions
(add, add_product_order, refill, cancel) raise ProviderAmbiguous once the request may have reached
the provider: upstream has no idempotency key, so a blind retry could buy the service twice.
"""

import logging
import re
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

from providers.client import transport as wire
from providers.client.messages import TOO_MANY_REQUESTS, classify, is_auth_failure
from providers.client.parsing import (
    BadJson,
    decode_json,
    error_text,
    field,
    record,
    to_decimal,
    to_id,
)
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderError,
    ProviderUnavailable,
)

logger = logging.getLogger("providers.client")

_REDACTED = "[redacted]"
# Redacting a 1-3 character "key" would shred every message while protecting nothing.
_MIN_REDACTABLE_KEY = 4
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Rejected and busy messages may be repeated to customers as they are; the others are for
# admins, who need to know which provider failed.
_ADMIN_ONLY = (ProviderUnavailable, ProviderAmbiguous, ProviderAuthError)
_NOT_JSON = object()
_REFUSED_BEFORE_WORK = frozenset({400, 404, 405, 411, 413, 414, 431})


class AnswerReader:
    """Classifies one provider's answers. Holds the key only to redact it from messages."""

    def __init__(self, *, host: str, api_key: str) -> None:
        self.host = host
        self._secrets = _secret_forms(api_key)

    def __repr__(self) -> str:
        return f"<AnswerReader {self.host}>"

    def transport_failure(
        self, action: str, failure: wire.TransportFailure, *, is_write: bool
    ) -> NoReturn:
        if failure.may_have_been_sent:
            self.fail(action, is_write, failure.detail)
        raise self.error(ProviderUnavailable, action, f"not sent: {failure.detail}")

    def data(
        self,
        action: str,
        raw: wire.RawAnswer,
        *,
        is_write: bool,
        result_keys: tuple[str, ...] = (),
    ) -> Any:
        """The decoded JSON of a successful answer; raises for every other kind of answer."""
        code = raw.status_code
        if code == 429:
            self._throttled(action, raw)
        if 300 <= code < 400:
            where = raw.location[:200] or "no Location"
            self.fail(action, is_write, f"redirected (HTTP {code}) to {where}; check the API URL")
        try:
            data = decode_json(raw.body)
        except BadJson:
            data = _NOT_JSON
        if data is _NOT_JSON:
            # Raised outside the except block so no decoder error hangs off the exception.
            self._not_json(action, raw, is_write=is_write)
        upstream = error_text(data)
        if code in (401, 403):
            detail = f": {upstream}" if upstream else ""
            message = f"credentials refused (HTTP {code}){detail}"
            raise self.error(ProviderAuthError, action, message, upstream)
        if code >= 500 or code < 200:
            self.fail(action, is_write, f"HTTP {code}: {snippet(raw)}")
        if upstream is not None:
            if is_write and _has_created_id(data, result_keys):
                # An error beside a fresh id: we cannot tell which of the two is true.
                self.fail(action, is_write, f"an error beside an id: {snippet(raw)}")
            self.raise_for_text(action, upstream)
        if code >= 400:
            self._client_error(action, code, snippet(raw), is_write=is_write)
        return data

    def raise_for_text(self, action: str, upstream: str) -> NoReturn:
        cls, message = classify(upstream)
        if cls is ProviderAuthError:
            message = f"credentials refused: {upstream}"
        raise self.error(cls, action, message, upstream)

    def fail(self, action: str, is_write: bool, detail: str) -> NoReturn:
        """A failure after the request may have been sent: harmless for reads only."""
        if is_write:
            message = f"{action} was sent but the outcome is unknown: {detail}"
            raise self.error(ProviderAmbiguous, action, message)
        raise self.error(ProviderUnavailable, action, detail)

    def error(
        self,
        cls: type[ProviderError],
        action: str,
        message: str,
        upstream: str | None = None,
        **extra: Any,
    ) -> ProviderError:
        if issubclass(cls, _ADMIN_ONLY):
            message = f"{self.host}: {message}"
        error = cls(
            self._redact(message),
            action=action,
            upstream_message=None if upstream is None else self._redact(upstream),
            **extra,
        )
        logger.info("provider %s %s failed: %s", self.host, action, error.message)
        return error

    def _not_json(self, action: str, raw: wire.RawAnswer, *, is_write: bool) -> NoReturn:
        text = snippet(raw)
        code = raw.status_code
        if is_auth_failure(text) or code in (401, 403):
            message = f"credentials refused (HTTP {code}): {text}"
            raise self.error(ProviderAuthError, action, message, text)
        if 400 <= code < 500:
            self._client_error(action, code, text, is_write=is_write)
        self.fail(action, is_write, f"not a JSON answer (HTTP {code}): {text}")

    def _client_error(self, action: str, code: int, text: str, *, is_write: bool) -> NoReturn:
        """A 4xx without an error text. These codes prove the request was refused before any
        work; others (408, 409, 422, 499 from a proxy…) may follow a request that was processed."""
        if code in _REFUSED_BEFORE_WORK or not is_write:
            raise self.error(ProviderUnavailable, action, f"HTTP {code}: {text}")
        self.fail(action, is_write, f"HTTP {code}: {text}")

    def _throttled(self, action: str, raw: wire.RawAnswer) -> NoReturn:
        try:
            upstream = error_text(decode_json(raw.body))
        except BadJson:
            upstream = None
        seconds = to_decimal(raw.retry_after)
        raise self.error(
            ProviderBusy,
            action,
            TOO_MANY_REQUESTS,
            upstream or TOO_MANY_REQUESTS,
            retry_after=float(seconds) if seconds is not None and seconds >= 0 else None,
        )

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text


def _secret_forms(api_key: str) -> tuple[str, ...]:
    if len(api_key) < _MIN_REDACTABLE_KEY:
        return ()
    # Longest first, so a form that contains another is replaced whole.
    forms = {api_key, quote_plus(api_key), quote(api_key, safe="")}
    return tuple(sorted(forms, key=len, reverse=True))


def _has_created_id(data: Any, names: tuple[str, ...]) -> bool:
    rec = record(data)
    return rec is not None and any(to_id(field(rec, name)) for name in names)


def shape(data: Any) -> str:
    """A short description of a decoded answer, for messages."""
    text = " ".join(str(data).split())
    return f"{type(data).__name__} {text[:120]}"


def snippet(raw: wire.RawAnswer) -> str:
    """The start of a body, for messages: an HTML page's title, or its text without tags."""
    text = raw.body[:4096].decode("utf-8", errors="replace")
    title = _TITLE.search(text)
    if title:
        text = title.group(1)
    elif "<" in text and ">" in text:
        text = _TAG.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        return "empty body"
    return text[:200] + ("…" if len(text) > 200 else "")
