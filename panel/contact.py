"""How customers reach the operator: Zalo, a hotline, Telegram and Facebook (docs/configuration.md).

Each PANEL_SUPPORT_* setting is read once and turned into a link; a value that is not what its
channel accepts stops the process at start (PanelConfig.ready), not a customer's click later.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.phones import NotAPhoneNumber, phone_dial_string, vn_mobile_normalize

# Telegram's own rule for public usernames: 5 to 32 letters, digits and underscores.
_TELEGRAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]")
# A Zalo official account or a personal link's path (zalo.me/<digits or a name>).
_ZALO_PATH = re.compile(r"[A-Za-z0-9_.\-]{3,64}")
_FACEBOOK_HOSTS = frozenset(
    {"facebook.com", "www.facebook.com", "m.facebook.com", "fb.com", "www.fb.com", "m.me"}
)


@dataclass(frozen=True)
class Contact:
    kind: str  # zalo, phone, telegram, facebook: also the icon's and the label's key
    text: str  # what the page shows
    href: str  # where the link goes


def _zalo(value: str) -> Contact:
    try:
        number = vn_mobile_normalize(value)
    except NotAPhoneNumber:
        pass
    else:
        return Contact("zalo", value.strip(), f"https://zalo.me/{number}")
    url = urlsplit(value if "//" in value else f"https://{value}")
    path = url.path.strip("/")
    if url.scheme != "https" or url.hostname != "zalo.me" or not _ZALO_PATH.fullmatch(path):
        raise ValueError("a Vietnamese mobile number or a https://zalo.me/... link")
    return Contact("zalo", f"zalo.me/{path}", f"https://zalo.me/{path}")


def _phone(value: str) -> Contact:
    try:
        dial = phone_dial_string(value)
    except NotAPhoneNumber:
        raise ValueError("a phone number (digits, an optional leading +)") from None
    return Contact("phone", value.strip(), f"tel:{dial}")


def _telegram(value: str) -> Contact:
    name = value.strip()
    for prefix in ("https://t.me/", "http://t.me/", "t.me/", "@"):
        if name.startswith(prefix):
            name = name.removeprefix(prefix).rstrip("/")
            break
    if not _TELEGRAM_NAME.fullmatch(name):
        raise ValueError("a Telegram username (@name) or a https://t.me/name link")
    return Contact("telegram", f"@{name}", f"https://t.me/{name}")


def _facebook(value: str) -> Contact:
    url = urlsplit(value.strip())
    path = url.path.strip("/")
    if url.scheme != "https" or url.hostname not in _FACEBOOK_HOSTS or not path:
        raise ValueError("a https://facebook.com/..., https://fb.com/... or https://m.me/... link")
    shown = f"{url.hostname.removeprefix('www.')}/{path}"
    return Contact("facebook", shown, value.strip())


# The order the footer and the floating button list them in.
_PARSERS = (
    ("PANEL_SUPPORT_ZALO", _zalo),
    ("PANEL_SUPPORT_PHONE", _phone),
    ("PANEL_SUPPORT_TELEGRAM", _telegram),
    ("PANEL_SUPPORT_FACEBOOK", _facebook),
)


def contacts_parse(values: dict[str, str]) -> tuple[Contact, ...]:
    """The contacts the given settings describe, empty ones left out; raises
    ImproperlyConfigured naming the first setting whose value its channel does not accept."""
    contacts = []
    for name, parse in _PARSERS:
        value = values.get(name, "").strip()
        if not value:
            continue
        try:
            contacts.append(parse(value))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}={value!r} is not {exc}") from None
    return tuple(contacts)


def support_contacts() -> tuple[Contact, ...]:
    """The contacts of this panel, from settings (checked at start, so this does not raise)."""
    return contacts_parse({name: getattr(settings, name) for name, _parse in _PARSERS})
