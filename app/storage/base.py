"""The storage interface every backend implements: objects addressed by a key."""

import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

CHUNK_SIZE = 64 * 1024
# Keys are made by Kiln (uuid-based), never taken from a client: a strict shape suffices.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")


class StorageError(Exception):
    """A backend failed."""


class ObjectNotFound(StorageError):
    """No object under that key."""


def check_key(key: str) -> str:
    if len(key) > 512 or not _KEY.match(key) or ".." in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the stream under `key`; return its size. If the stream raises, nothing is
        left behind under `key` (the partial object is removed) and the error propagates."""

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; raises ObjectNotFound before yielding if absent."""

    async def delete(self, key: str) -> None:
        """Remove the object; absent objects are ignored."""

    async def size(self, key: str) -> int:
        """The object's size in bytes; raises ObjectNotFound if absent."""


async def load_bytes(storage: Storage, key: str) -> bytes:
    parts = [chunk async for chunk in await storage.open(key)]
    return b"".join(parts)
