"""Signed, expiring file URLs as Dify issues them:
`{FILES_URL}/files/{id}/file-preview?timestamp=&nonce=&sign=`, where `sign` is the URL-safe
base64 HMAC-SHA256 (key: the secret key) of `file-preview|{id}|{timestamp}|{nonce}`."""

import base64
import hashlib
import hmac
import os
import time

from app.core.config import Settings

KINDS = ("file-preview", "image-preview")


def _sign(settings: Settings, kind: str, file_id: str, timestamp: str, nonce: str) -> str:
    message = f"{kind}|{file_id}|{timestamp}|{nonce}".encode()
    digest = hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def signed_url(settings: Settings, file_id: str, kind: str = "file-preview") -> str:
    timestamp = str(int(time.time()))
    nonce = os.urandom(16).hex()
    sign = _sign(settings, kind, file_id, timestamp, nonce)
    base = settings.files_url.rstrip("/")
    return f"{base}/files/{file_id}/{kind}?timestamp={timestamp}&nonce={nonce}&sign={sign}"


def verify(
    settings: Settings, kind: str, file_id: str, timestamp: str, nonce: str, sign: str
) -> bool:
    if not (timestamp.isdigit() and nonce and sign):
        return False
    expected = _sign(settings, kind, file_id, timestamp, nonce)
    if not hmac.compare_digest(expected.encode(), sign.encode()):
        return False
    return int(time.time()) - int(timestamp) <= settings.files_access_timeout
