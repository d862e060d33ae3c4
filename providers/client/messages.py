"""Reading providers' error texts: leaked message keys, and which error class a text means."""

import re
from functools import lru_cache

from providers.errors import (
    ProviderAuthError,
    ProviderBusy,
    ProviderError,
    ProviderRejected,
)

NOT_ENOUGH_FUNDS = "Not enough funds on balance"
LINK_DUPLICATE = "You have active order with this link. Please wait until order being completed."
TOO_MANY_REQUESTS = "Too many requests"

_MAX_MESSAGE_CHARS = 300

# Some panels send untranslated i18n keys instead of messages.
_LEAKED_KEYS = {
    "neworder.error.not_enough_funds": NOT_ENOUGH_FUNDS,
    "neworder.error.link_duplicate": LINK_DUPLICATE,
    "neworder.error.min_quantity": "Quantity less than minimal",
    "neworder.error.max_quantity": "Quantity more than maximal",
    "error.incorrect_service_id": "Incorrect service ID",
}
_LEAKED_KEY = re.compile(r"^(?:[a-z0-9_]+\.)*error\.([a-z0-9_]+)$", re.IGNORECASE)
_ACRONYMS = {"id": "ID", "ids": "IDs", "api": "API", "ip": "IP", "url": "URL"}

_AUTH_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:invalid|incorrect|wrong|bad|unknown|missing)\s+(?:api[\s_-]*)?key\b",
        r"\bapi[\s_-]*key\b.*\b(?:disabled|invalid|expired|revoked|blocked|required|missing)\b",
        r"\bip\b.*\bnot\s+(?:allowed|whitelisted|authori[sz]ed|permitted)\b",
        r"\bnot\s+whitelisted\b",
        r"\b(?:account|user)\s+(?:is\s+|was\s+|has\s+been\s+)?(?:banned|suspended|blocked|disabled)\b",
        r"\bunauthori[sz]ed\b",
    )
]
_FUNDS = re.compile(
    r"\bnot\s+enough\s+(?:funds|balance|money)\b|\binsufficient\s+(?:funds|balance)\b"
    r"|\blow\s+balance\b",
    re.IGNORECASE,
)
_LINK_DUPLICATE = re.compile(r"\bactive\s+order\b", re.IGNORECASE)
_THROTTLED = re.compile(r"\btoo\s+many\s+requests\b|\brate[\s_-]*limit", re.IGNORECASE)


def humanise(raw: str) -> str:
    """The provider's error text, readable: leaked keys mapped, whitespace collapsed, bounded."""
    text = " ".join(raw.split())
    mapped = _LEAKED_KEYS.get(text.lower())
    if mapped:
        return mapped
    match = _LEAKED_KEY.match(text)
    if match:
        words = [_ACRONYMS.get(w, w) for w in match.group(1).lower().split("_") if w]
        text = " ".join(words)
        text = text[:1].upper() + text[1:]
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text or "Unknown error"


def is_auth_failure(text: str) -> bool:
    return any(p.search(text) for p in _AUTH_PATTERNS)


def classify(text: str) -> tuple[type[ProviderError], str]:
    """The error class an upstream `{"error": text}` means, and the message to carry.

    Busy texts get the protocol's canonical spelling, since the panel may repeat them; rejected
    texts keep the provider's wording ("Quantity less than minimal 200" carries the limit).
    """
    if is_auth_failure(text):
        return ProviderAuthError, text
    if _FUNDS.search(text):
        return ProviderBusy, NOT_ENOUGH_FUNDS
    if _LINK_DUPLICATE.search(text):
        return ProviderBusy, LINK_DUPLICATE
    if _THROTTLED.search(text):
        return ProviderBusy, TOO_MANY_REQUESTS
    return ProviderRejected, text


_ERRORISH = re.compile(
    r"\b(?:incorrect|invalid|wrong|error|not\s+found|not\s+available|unknown|denied|failed)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def looks_like_error(text: str) -> bool:
    """Whether a bare string found where a status or id belongs is an error message instead.
    Cached: a poll asks it of every entry's status, and a provider uses a handful of them."""
    return bool(_ERRORISH.search(text) or _LEAKED_KEY.match(text.strip()))
