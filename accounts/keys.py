"""API key format and hashing. A key is `smm_` + 40 random characters; the first 12 characters
are stored in clear for lookup, the whole key only as an HMAC keyed by SECRET_KEY.

Staff keys of the operator API have the same shape with their own prefix (`smo_`), so a leaked
key says at a glance which kind it is and one kind is never accepted where the other is."""

import hmac
import secrets
import string

from django.utils.crypto import salted_hmac

KEY_PREFIX = "smm_"
STAFF_KEY_PREFIX = "smo_"
LOOKUP_LENGTH = 12
_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40
_HMAC_SALT = "accounts.api_key"


def generate_key(prefix: str = KEY_PREFIX) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))


def lookup_prefix(key: str) -> str:
    return key[:LOOKUP_LENGTH]


def is_well_formed(key: str, prefix: str = KEY_PREFIX) -> bool:
    return (
        len(key) == len(prefix) + _SECRET_LENGTH
        and key.startswith(prefix)
        and all(ch in _ALPHABET for ch in key[len(prefix) :])
    )


def key_digest(key: str) -> str:
    return salted_hmac(_HMAC_SALT, key, algorithm="sha256").hexdigest()


def digest_matches(key: str, digest: str) -> bool:
    return hmac.compare_digest(key_digest(key), digest)
