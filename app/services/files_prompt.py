"""The model-facing parts of a request's files.

Images go to the model as OpenAI `image_url` parts: with `KILN_MULTIMODAL_SEND_FORMAT=base64`
(Dify's default) as data URLs, local files read from storage and remote URLs fetched through
the SSRF guard (capped at the image size limit); with `url`, remote URLs as given and local
files as signed URLs (when `KILN_FILES_URL` makes them absolute). Earlier turns' images are
rebuilt the same way for the conversation memory. Documents, audio, video and
custom files are recorded on the message but not sent: Kiln's gateway speaks the OpenAI chat
format, where only image parts are portable across providers.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidParam
from app.engine.app_config import AppConfig
from app.engine.multimodal import data_url, image_part
from app.engine.prompt import Turn
from app.models import MessageFile, UploadFile
from app.net.fetch import FetchError, FetchPolicy, fetch
from app.net.ssrf import AllowList
from app.services.files_chat import (
    FileUploadConfig,
    RequestFile,
    attach_files,
    resolve_files,
    upload_config,
)
from app.services.files_messages import stored_message_files
from app.services.files_signing import signed_url
from app.services.files_types import guess_mime, size_limit
from app.services.generation_records import fail_message
from app.storage import ObjectNotFound, get_storage, load_bytes

logger = logging.getLogger("kiln.files")


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


async def _image_url(settings: Settings, f: RequestFile) -> str:
    if settings.multimodal_send_format == "url":
        if f.url is not None:
            return f.url
        if f.upload is not None and settings.files_url:
            return signed_url(settings, f.upload.id)
    if f.url is not None:
        return await _remote_image(settings, f)
    return await _local_image(settings, f)


async def prompt_parts(
    settings: Settings, files: list[RequestFile], cfg: FileUploadConfig | None
) -> list[dict[str, Any]]:
    if cfg is None:
        return []
    return [
        image_part(await _image_url(settings, f), cfg.detail) for f in files if f.type == "image"
    ]


async def add_history_files(settings: Settings, config: AppConfig, history: list[Turn]) -> None:
    """Give earlier turns the image parts of their queries' files, as Dify's memory does
    while the app's file upload is on. A file that can no longer be read is left out."""
    cfg = upload_config(config)
    ids = [turn.message_id for turn in history if turn.message_id]
    if cfg is None or not ids:
        return
    by_message: dict[str, list[dict[str, Any]]] = {}
    for message_file, upload in await stored_message_files(ids):
        f = _stored_file(message_file, upload)
        if f is None or message_file.type != "image" or message_file.belongs_to != "user":
            continue
        try:
            url = await _image_url(settings, f)
        except InvalidParam as exc:
            logger.warning("history file %s left out: %s", message_file.id, exc.message)
            continue
        by_message.setdefault(message_file.message_id, []).append(image_part(url, cfg.detail))
    for turn in history:
        turn.parts = by_message.get(turn.message_id, [])


def _stored_file(message_file: MessageFile, upload: UploadFile | None) -> RequestFile | None:
    if upload is not None:
        return RequestFile(
            type="image",
            transfer_method=message_file.transfer_method,
            filename=upload.name,
            extension=upload.extension,
            mime_type=upload.mime_type,
            size=upload.size,
            upload=upload,
        )
    if message_file.url:
        return RequestFile("image", "remote_url", "", "", None, -1, url=message_file.url)
    return None


@dataclass(slots=True)
class PreparedFiles:
    files: list[RequestFile] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)


async def prepare_request_files(
    settings: Settings, app_id: str, config: AppConfig, entries: list[Any] | None
) -> PreparedFiles:
    """Check a request's `files` and build their model parts, before any row is written."""
    files, cfg = await resolve_files(app_id, config, entries)
    return PreparedFiles(files, await prompt_parts(settings, files, cfg))


async def attach_request_files(message_id: str, end_user_id: str, prepared: PreparedFiles) -> None:
    """Record the message's files; if that fails the message is closed as failed."""
    try:
        await attach_files(message_id, end_user_id, prepared.files)
    except Exception:
        await fail_message(message_id, "Internal Server Error")
        raise
