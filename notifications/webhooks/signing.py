"""The signature every webhook carries, and its check (the panel checks it too, on the webhooks
an upstream copy of this panel sends): `X-Panel-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>">` with the endpoint's secret (docs/protocol.md)."""

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Panel-Signature"
EVENT_HEADER = "X-Panel-Event"
EVENT_ID_HEADER = "X-Panel-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label in front of the secret, not a secret


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_value(*, secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _parts(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def signature_is_valid(
    *, secret: str, body: bytes, header: str, tolerance_seconds: int, now: float | None = None
) -> bool:
    """A `v1` that matches (compared in constant time) on a timestamp no further than
    `tolerance_seconds` from now either way: an old request replayed is refused."""
    timestamp, signatures = _parts(header or "")
    if timestamp is None or not signatures:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = signature_value(secret=secret, body=body, timestamp=timestamp).split("v1=")[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
