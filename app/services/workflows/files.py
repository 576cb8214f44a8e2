"""Files in graph apps: a request's or an input's files as workflow file values, and file
values back into model parts for vision inputs (images as `image_url` parts, documents as
`file` parts; the gateway keeps the documents the call's provider reads)."""

import dataclasses
import mimetypes
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from app.core.config import Settings
from app.core.db import session_scope
from app.engine.multimodal import document_part, image_part
from app.engine.variables.values import FileValue
from app.gateway.documents import ANY_PROVIDER, document_mime_type
from app.models import UploadFile
from app.net.fetch import fetch
from app.services.files.file_classes import detect_type, size_limit
from app.services.files.prompt_parts import fetch_policy, image_url
from app.services.files.request_files import RequestFile
from app.services.files.signing import signed_url
from app.storage import get_storage
from app.storage.base import load_bytes


def file_value(settings: Settings, f: RequestFile) -> FileValue:
    extension = f".{f.extension}" if f.extension else ""
    if f.upload is not None:
        return FileValue(
            type=f.type,
            transfer_method=f.transfer_method,
            filename=f.filename,
            extension=extension,
            mime_type=f.mime_type or "",
            size=f.size,
            url=signed_url(settings, f.upload.id),
            related_id=f.upload.id,
            id=f.upload.id,
        )
    return FileValue(
        type=f.type,
        transfer_method=f.transfer_method,
        filename=f.filename,
        extension=extension,
        mime_type=f.mime_type or "",
        size=f.size,
        url=f.url,
        remote_url=f.url,
    )


async def _request_file(value: FileValue) -> RequestFile:
    upload = None
    if value.transfer_method == "local_file" and value.related_id:
        async with session_scope() as session:
            upload = await session.get(UploadFile, value.related_id)
    return RequestFile(
        type=value.type,
        transfer_method=value.transfer_method,
        filename=value.filename,
        extension=value.extension.lstrip("."),
        mime_type=value.mime_type or None,
        size=value.size,
        upload=upload,
        url=None if upload is not None else (value.remote_url or value.url),
    )


def vision_parts(settings: Settings, read: Callable[[FileValue], Awaitable[bytes]]) -> Any:
    """The engine's `file_parts` service: image files as `image_url` parts, document files
    some provider reads (app/gateway/documents.py) as `file` parts with their bytes from
    `read` (the run's `read_file`); other files are not sent, as before."""

    async def parts(files: Sequence[FileValue], detail: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for value in files:
            if value.type == "image":
                url = await image_url(settings, await _request_file(value))
                found.append(image_part(url, detail))
                continue
            mime_type = document_mime_type(value.extension, value.mime_type)
            if value.type == "document" and mime_type in ANY_PROVIDER:
                content = await read(value)
                found.append(document_part(value.filename or "document", mime_type, content))
        return found

    return parts


def file_store(settings: Settings, app_id: str, end_user_id: str) -> tuple[Any, Any]:
    """The engine's `save_file` and `read_file` services for one run: files a node makes
    (HTTP file responses) are stored like uploads, so signed URLs serve them."""
    storage = get_storage(settings)

    async def save(content: bytes, mime_type: str, name: str) -> FileValue:
        extension = _extension_of(name, mime_type)
        file_id = str(uuid.uuid4())
        key = f"tool_files/{app_id}/{file_id}{'.' + extension if extension else ''}"

        async def chunks() -> AsyncIterator[bytes]:
            yield content

        size = await storage.save(key, chunks())
        row = UploadFile(
            id=file_id,
            app_id=app_id,
            storage_key=key,
            name=name or f"file.{extension or 'bin'}",
            size=size,
            extension=extension,
            mime_type=mime_type or None,
            created_by=end_user_id,
            used=True,
            used_by=end_user_id,
        )
        async with session_scope() as session:
            session.add(row)
        return FileValue(
            type=detect_type(extension, mime_type),
            transfer_method="tool_file",
            filename=row.name,
            extension=f".{extension}" if extension else "",
            mime_type=mime_type,
            size=size,
            url=signed_url(settings, file_id),
            related_id=file_id,
            id=file_id,
        )

    async def read(value: FileValue) -> bytes:
        if value.related_id:
            async with session_scope() as session:
                row = await session.get(UploadFile, value.related_id)
            if row is not None and row.app_id == app_id:
                return await load_bytes(storage, row.storage_key)
        url = value.remote_url or value.url
        if not url:
            raise ValueError(f"file {value.filename!r} has no content Kiln can read")
        limit = size_limit(value.extension.lstrip("."), settings)
        fetched = await fetch(url, fetch_policy(settings, limit))
        return fetched.data

    return save, read


def _extension_of(name: str, mime_type: str) -> str:
    _, dot, ext = name.rpartition(".")
    if dot and ext.isalnum() and len(ext) <= 16:
        return ext.lower()
    guessed = mimetypes.guess_extension(mime_type or "") or ""
    return guessed.lstrip(".")


def fresh_urls(settings: Settings, value: Any) -> Any:
    """`value` with its stored files' signed URLs made anew (they expire; a run resumed
    hours after its pause shows its files by URLs that work)."""
    if isinstance(value, FileValue):
        signed = value.transfer_method in ("local_file", "tool_file") and value.related_id
        if signed and value.remote_url is None:
            return dataclasses.replace(value, url=signed_url(settings, str(value.related_id)))
        return value
    if isinstance(value, dict):
        return {key: fresh_urls(settings, item) for key, item in value.items()}
    if isinstance(value, list):
        return [fresh_urls(settings, item) for item in value]
    return value
