"""Storage on the local file system under one root directory."""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio

from app.storage.base import CHUNK_SIZE, ObjectNotFound, StorageError, check_key


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"invalid storage key: {key!r}")
        return path

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # Written beside the target and renamed at the end: a failed or rejected stream
        # never leaves a partial object under the key.
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        size = 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    await out.write(chunk)
            await asyncio.to_thread(os.replace, partial, path)
        except BaseException:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        return size

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return self._read(handle)

    @staticmethod
    async def _read(handle: anyio.AsyncFile[bytes]) -> AsyncIterator[bytes]:
        async with handle:
            while chunk := await handle.read(CHUNK_SIZE):
                yield chunk

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def size(self, key: str) -> int:
        try:
            stat = await asyncio.to_thread(self._path(key).stat)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return stat.st_size
