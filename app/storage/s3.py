"""Storage in an S3-compatible bucket (AWS, MinIO, Ceph, R2, …) over plain httpx with
SigV4 signing and path-style addressing.

`save` spools the stream to a temporary file (memory up to 8 MB, then disk) while hashing
it, and sends one signed PUT only once the stream has ended cleanly: a stream that fails or
is rejected mid-way sends nothing, so no partial object can exist under the key.
"""

import asyncio
import hashlib
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO

import httpx

from app.core.config import Settings
from app.storage.base import CHUNK_SIZE, ObjectNotFound, StorageError, check_key
from app.storage.sigv4 import EMPTY_SHA256, amz_date, authorization

SPOOL_IN_MEMORY = 8 * 1024 * 1024
ERROR_BODY_LIMIT = 4096
_ERROR_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")


class S3Storage:
    def __init__(
        self,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        endpoint: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self.endpoint = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
        self._client = httpx.AsyncClient(transport=transport, timeout=60.0, trust_env=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        if not (settings.s3_bucket and settings.s3_access_key and settings.s3_secret_key):
            raise StorageError(
                "KILN_STORAGE_TYPE=s3 needs KILN_S3_BUCKET, KILN_S3_ACCESS_KEY, KILN_S3_SECRET_KEY"
            )
        return cls(
            settings.s3_bucket,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_region,
            settings.s3_endpoint,
        )

    def _url(self, key: str) -> httpx.URL:
        return httpx.URL(f"{self.endpoint}/{self.bucket}/{check_key(key)}")

    def _headers(self, method: str, url: httpx.URL, payload_hash: str) -> dict[str, str]:
        headers = {
            "host": url.netloc.decode("ascii"),
            "x-amz-date": amz_date(),
            "x-amz-content-sha256": payload_hash,
        }
        headers["authorization"] = authorization(
            method, url, headers, payload_hash, self._access_key, self._secret_key, self.region
        )
        return headers

    async def _send(
        self,
        method: str,
        key: str,
        payload_hash: str = EMPTY_SHA256,
        content: AsyncIterator[bytes] | None = None,
        size: int | None = None,
    ) -> httpx.Response:
        url = self._url(key)
        headers = self._headers(method, url, payload_hash)
        if size is not None:
            headers["content-length"] = str(size)
        request = self._client.build_request(method, url, headers=headers, content=content)
        try:
            return await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise StorageError(f"S3 {method} failed: {type(exc).__name__}") from None

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            digest = hashlib.sha256()
            size = 0
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                await asyncio.to_thread(spool.write, chunk)
            spool.seek(0)
            response = await self._send(
                "PUT", key, digest.hexdigest(), content=_read_spool(spool), size=size
            )
            if response.status_code != 200:
                raise await _failure("PUT", response)
            await response.aclose()
        return size

    async def open(self, key: str) -> AsyncIterator[bytes]:
        response = await self._send("GET", key)
        if response.status_code == 404:
            await response.aclose()
            raise ObjectNotFound(key)
        if response.status_code != 200:
            raise await _failure("GET", response)
        return _body(response)

    async def delete(self, key: str) -> None:
        response = await self._send("DELETE", key)
        if response.status_code not in (200, 204, 404):
            raise await _failure("DELETE", response)
        await response.aclose()

    async def size(self, key: str) -> int:
        response = await self._send("HEAD", key)
        if response.status_code not in (200, 404):
            raise await _failure("HEAD", response)
        await response.aclose()
        if response.status_code == 404:
            raise ObjectNotFound(key)
        return int(response.headers.get("content-length", "0"))

    async def aclose(self) -> None:
        await self._client.aclose()


async def _read_spool(spool: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(spool.read, CHUNK_SIZE):
        yield chunk


async def _failure(method: str, response: httpx.Response) -> StorageError:
    """The error for a non-success answer, naming S3's error code (e.g. SignatureDoesNotMatch)
    when the start of the body has one; closes the response."""
    head = b""
    try:
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= ERROR_BODY_LIMIT:
                break
    except (httpx.HTTPError, httpx.StreamError):
        pass
    finally:
        await response.aclose()
    code = _ERROR_CODE.search(head[:ERROR_BODY_LIMIT])
    detail = f" ({code.group(1).decode()})" if code else ""
    return StorageError(f"S3 {method} answered HTTP {response.status_code}{detail}")


async def _body(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(CHUNK_SIZE):
            yield chunk
    finally:
        await response.aclose()
