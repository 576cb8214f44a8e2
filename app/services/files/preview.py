"""Serving stored files: the Service API preview (only files used in a message of the
calling app, Dify §12.2) and the signed `/files/{id}/file-preview` URLs (§12.3)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import col, select

from app.core.config import Settings
from app.core.db import read_scope
from app.core.errors import NotFound
from app.models import Message, MessageFile, UploadFile
from app.services.files.errors import FileAccessDenied, FileNotFound
from app.services.files.signing import verify
from app.storage import ObjectNotFound, Storage, get_storage

SEEKABLE_MIME_TYPES = frozenset(
    {
        "audio/mpeg", "audio/wav", "audio/mp4", "audio/ogg", "audio/flac", "audio/aac",
        "video/mp4", "video/webm", "video/quicktime", "audio/x-m4a",
    }
)  # fmt: skip
# Served as downloads whatever the client asks: a browser must never render them inline
# from the API's origin.
FORCED_DOWNLOAD_MIME_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml"})
FORCED_DOWNLOAD_EXTENSIONS = frozenset({"html", "htm", "xhtml", "svg"})


@dataclass(slots=True)
class FileBody:
    chunks: AsyncIterator[bytes]
    headers: dict[str, str]
    media_type: str


async def owned_upload(app_id: str, file_id: str) -> UploadFile:
    """Dify's rule: the file must be attached to a message of this app."""
    async with read_scope() as session:
        used_here = (
            select(MessageFile.id)
            .join(Message, col(Message.id) == col(MessageFile.message_id))
            .where(MessageFile.upload_file_id == file_id, Message.app_id == app_id)
            .limit(1)
        )
        if (await session.exec(used_here)).first() is None:
            used_anywhere = select(MessageFile.id).where(MessageFile.upload_file_id == file_id)
            if (await session.exec(used_anywhere.limit(1))).first() is None:
                raise FileNotFound("File not found in message context")
            raise FileAccessDenied("File access denied: not owned by requesting app")
        upload = await session.get(UploadFile, file_id)
    if upload is None:
        raise FileNotFound("Upload file record not found")
    if upload.app_id != app_id:
        raise FileAccessDenied("File access denied: tenant mismatch")
    return upload


def _headers(upload: UploadFile, as_attachment: bool) -> tuple[dict[str, str], str]:
    media_type = upload.mime_type or "application/octet-stream"
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if upload.size > 0:
        headers["Content-Length"] = str(upload.size)
    if media_type in SEEKABLE_MIME_TYPES:
        headers["Accept-Ranges"] = "bytes"
    forced = (
        media_type.split(";")[0].strip().lower() in FORCED_DOWNLOAD_MIME_TYPES
        or upload.extension.lower() in FORCED_DOWNLOAD_EXTENSIONS
    )
    if (as_attachment or forced) and upload.name:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(upload.name)}"
        media_type = "application/octet-stream"
    return headers, media_type


async def _no_chunks() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _body(
    storage: Storage, upload: UploadFile, as_attachment: bool, headers_only: bool
) -> FileBody:
    """`headers_only` (HEAD) checks the object exists without reading it."""
    try:
        if headers_only:
            await storage.size(upload.storage_key)
            chunks = _no_chunks()
        else:
            chunks = await storage.open(upload.storage_key)
    except ObjectNotFound:
        raise FileNotFound("Failed to load file content: the stored object is missing") from None
    headers, media_type = _headers(upload, as_attachment)
    return FileBody(chunks, headers, media_type)


async def preview(
    settings: Settings, app_id: str, file_id: str, as_attachment: bool, headers_only: bool
) -> FileBody:
    upload = await owned_upload(app_id, file_id)
    return await _body(get_storage(settings), upload, as_attachment, headers_only)


SIGNATURE_INVALID = "File not found or signature is invalid"


async def signed_preview(
    settings: Settings,
    kind: str,
    file_id: str,
    params: dict[str, str],
    headers_only: bool,
) -> FileBody:
    timestamp, nonce, sign = (params.get(k, "") for k in ("timestamp", "nonce", "sign"))
    if not verify(settings, kind, file_id, timestamp, nonce, sign):
        raise NotFound(SIGNATURE_INVALID)
    async with read_scope() as session:
        upload = await session.get(UploadFile, file_id)
    if upload is None or (kind == "image-preview" and not _is_image(upload)):
        raise NotFound(SIGNATURE_INVALID)
    as_attachment = params.get("as_attachment", "").lower() == "true"
    try:
        return await _body(get_storage(settings), upload, as_attachment, headers_only)
    except FileNotFound:
        raise NotFound(SIGNATURE_INVALID) from None


def _is_image(upload: UploadFile) -> bool:
    return (upload.mime_type or "").startswith("image/")
