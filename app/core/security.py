"""API keys: `app-` + 24 alphanumerics, stored only as a SHA-256 digest."""

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
KEY_PREFIX = "app-"
KEY_LENGTH = 24


def generate_api_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


def derived_api_key(secret_key: str, label: str) -> str:
    """A key reproducible from the server secret, for bundled example apps."""
    digest = hmac.new(secret_key.encode(), f"kiln-bootstrap:{label}".encode(), "sha256").digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(KEY_LENGTH):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return KEY_PREFIX + "".join(chars)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_hint(key: str) -> str:
    return key[:6] + "…" + key[-4:]
