"""Encryption at rest for secrets (provider API keys, payment gateway credentials), so a leaked
database does not leak the keys that spend or receive the panel's money. Keys come from
PANEL_ENCRYPTION_KEYS (Fernet, first one encrypts)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.PANEL_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("PANEL_ENCRYPTION_KEYS must name at least one Fernet key")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "PANEL_ENCRYPTION_KEYS holds a value that is not a Fernet key"
        ) from exc


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: PANEL_ENCRYPTION_KEYS lost the key it was written with"
        ) from exc


def reencrypt_secret(token: str) -> str:
    """The same secret under the current first key (for key rotation)."""
    return _fernet().rotate(token.encode()).decode()
