"""When two links name the same target: the key the one-active-order-per-link rule compares.

Customers paste the same post many ways (`http://`, `https://www.`, a trailing slash, a share
link with `?utm_source=…&igshid=…`). Two orders on one post under-deliver both, so the rule
compares links with everything that does not change the target taken away. Paths and the
remaining query keep their case: video and post ids are case-sensitive."""

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit

# Query parameters that only say where a link was shared from.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "igshid", "igsh", "si", "feature"})
TRACKING_PREFIXES = ("utm_",)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def normalized_link(link: str) -> str:
    """`link` without scheme, `www.`, tracking parameters, fragment or trailing slash, its host
    in lowercase. A handle (`@name`, no host) is only trimmed."""
    text = link.strip()
    if text.startswith("@") or ("://" not in text and "." not in text.split("/", 1)[0]):
        return text.rstrip("/")
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = (parts.hostname or "").removeprefix("www.")
    if parts.port:
        host = f"{host}:{parts.port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def link_key(link: str) -> str:
    """What orders store to compare links: a digest of the normalized link, short enough for a
    unique index however long the link is."""
    return hashlib.sha256(normalized_link(link).encode()).hexdigest()
