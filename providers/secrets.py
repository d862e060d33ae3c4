"""Provider API keys at rest: the Fernet helpers live in core.secrets, shared with payments."""

from core.secrets import decrypt_secret, encrypt_secret, reencrypt_secret

__all__ = ["decrypt_secret", "encrypt_secret", "reencrypt_secret"]
