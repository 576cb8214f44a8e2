"""The model-facing parts of a request's files, in the request's order.

Images go to the model as OpenAI `image_url` parts: with `KILN_MULTIMODAL_SEND_FORMAT=base64`
(Dify's default) as data URLs, local files read from storage and remote URLs fetched through
the SSRF guard (capped at the image size limit); with `url`, remote URLs as given and local
files as signed URLs (when `KILN_FILES_URL` makes them absolute); earlier turns' images are
rebuilt the same way (app/services/files/history_images.py). Documents go as OpenAI `file`
parts with base64 data, as Dify sends a DocumentPromptMessageContent, but only those whose
MIME type the app's provider reads (app/gateway/documents.py; nothing is read for the
others). Audio, video and custom files are recorded on the message but not sent.
"""

from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidParam
from app.engine.app_config import AppConfig
from app.engine.multimodal import data_url, document_part, image_part
from app.gateway.documents import document_mime_type
from app.net.fetch import FetchError, FetchPolicy, fetch
from app.net.ssrf import AllowList
from app.services.files.file_classes import guess_mime, size_limit
from app.services.files.request_files import (
    FileUploadConfig,
    RequestFile,
    attach_files,
    resolve_files,
)
from app.services.files.signing import signed_url
from app.services.generation.records import fail_message
from app.storage import ObjectNotFound, get_storage, load_bytes


def fetch_policy(settings: Settings, max_bytes: int) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=max_bytes,
        timeout=settings.remote_file_timeout,
        allow=AllowList.parse(settings.ssrf_allowed_hosts),
    )


async def _remote_image(settings: Settings, f: RequestFile) -> str:
    assert f.url is not None
    try:
        fetched = await fetch(f.url, fetch_policy(settings, size_limit("png", settings)))
    except FetchError as exc:
        raise InvalidParam(f"Failed to fetch file from {f.url}: {exc}") from None
    mime = (fetched.content_type or "").split(";")[0].strip().lower()
    if not mime.startswith("image/"):
        mime = f.mime_type or guess_mime(f.filename) or "image/png"
    return data_url(mime, fetched.data)


async def _local_image(settings: Settings, f: RequestFile) -> str:
    assert f.upload is not None
    try:
        data = await load_bytes(get_storage(settings), f.upload.storage_key)
    except ObjectNotFound:
        raise InvalidParam("Invalid upload file") from None
    return data_url(f.mime_type or guess_mime(f.filename) or "image/png", data)


async def image_url(settings: Settings, f: RequestFile) -> str:
    """The URL (or data URL) by which the model gets an image file."""
    if settings.multimodal_send_format == "url":
        if f.url is not None:
            return f.url
        if f.upload is not None and settings.files_url:
            return signed_url(settings, f.upload.id)
    if f.url is not None:
        return await _remote_image(settings, f)
    return await _local_image(settings, f)


async def document_bytes(settings: Settings, f: RequestFile) -> bytes:
    """A document's content: read from storage, or fetched through the SSRF guard (capped
    at the document upload limit)."""
    if f.upload is not None:
        try:
            return await load_bytes(get_storage(settings), f.upload.storage_key)
        except ObjectNotFound:
            raise InvalidParam("Invalid upload file") from None
    assert f.url is not None
    try:
        fetched = await fetch(f.url, fetch_policy(settings, size_limit(f.extension, settings)))
    except FetchError as exc:
        raise InvalidParam(f"Failed to fetch file from {f.url}: {exc}") from None
    return fetched.data


def sent_document_type(f: RequestFile, documents: frozenset[str]) -> str | None:
    """The MIME type a document file goes to the model as, or None when it is not sent."""
    if f.type != "document":
        return None
    mime_type = document_mime_type(f.extension, f.mime_type)
    return mime_type if mime_type in documents else None


async def prompt_parts(
    settings: Settings,
    files: list[RequestFile],
    cfg: FileUploadConfig | None,
    documents: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Parts of the images, and of the documents of a type in `documents` (the MIME types
    the app's provider reads), in the request's order."""
    if cfg is None:
        return []
    parts: list[dict[str, Any]] = []
    for f in files:
        if f.type == "image":
            parts.append(image_part(await image_url(settings, f), cfg.detail))
        elif (mime_type := sent_document_type(f, documents)) is not None:
            content = await document_bytes(settings, f)
            parts.append(document_part(f.filename or "document", mime_type, content))
    return parts


@dataclass(slots=True)
class PreparedFiles:
    files: list[RequestFile] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)


async def prepare_request_files(
    settings: Settings, app_id: str, config: AppConfig, entries: list[Any] | None
) -> PreparedFiles:
    """Check a request's `files` and build their model parts, before any row is written."""
    files, cfg = await resolve_files(app_id, config.features, entries)
    return PreparedFiles(files, await prompt_parts(settings, files, cfg))


async def attach_request_files(message_id: str, end_user_id: str, prepared: PreparedFiles) -> None:
    """Record the message's files; if that fails the message is closed as failed."""
    try:
        await attach_files(message_id, end_user_id, prepared.files)
    except Exception:
        await fail_message(message_id, "Internal Server Error")
        raise
