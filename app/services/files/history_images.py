"""Files of earlier turns for the conversation memory, as Dify's memory sends them: after
the earlier query's text while the app's file upload is on. Chat-type models get the image
parts (fetched or read like a request's own, a few at a time) and the document parts of the
types the provider reads (prompt_parts.py); completion-type models only an `[image]` marker
in the history text, so nothing is fetched for them. A file that can no longer be read is
left out rather than failing the request."""

import asyncio
import logging
from typing import Any

from app.core.config import Settings
from app.engine.app_config import AppConfig
from app.engine.multimodal import document_part, image_part
from app.engine.prompt import Turn
from app.models import MessageFile, UploadFile
from app.services.files.message_files import stored_message_files
from app.services.files.prompt_parts import document_bytes, image_url, sent_document_type
from app.services.files.request_files import RequestFile, upload_config, url_name

logger = logging.getLogger("kiln.files")

CONCURRENT_FETCHES = 4
MARKER = image_part("", "low")  # stands for an image in a text-only history


def _stored_file(message_file: MessageFile, upload: UploadFile | None) -> RequestFile | None:
    if upload is not None:
        return RequestFile(
            type=message_file.type,
            transfer_method=message_file.transfer_method,
            filename=upload.name,
            extension=upload.extension,
            mime_type=upload.mime_type,
            size=upload.size,
            upload=upload,
        )
    if message_file.url:
        name = url_name(message_file.url)
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        return RequestFile(
            message_file.type, "remote_url", name, extension, None, -1, url=message_file.url
        )
    return None


async def add_history_files(
    settings: Settings,
    config: AppConfig,
    history: list[Turn],
    documents: frozenset[str] = frozenset(),
) -> None:
    """`documents`: the MIME types of the document files the app's provider reads."""
    cfg = upload_config(config.features)
    ids = [turn.message_id for turn in history if turn.message_id]
    if cfg is None or not ids:
        return
    text_only = config.model.mode == "completion"
    gate = asyncio.Semaphore(CONCURRENT_FETCHES)

    async def part(message_file: MessageFile, f: RequestFile) -> dict[str, Any] | None:
        if text_only:
            return MARKER
        async with gate:
            try:
                if f.type == "image":
                    return image_part(await image_url(settings, f), cfg.detail)
                mime_type = sent_document_type(f, documents)
                assert mime_type is not None
                content = await document_bytes(settings, f)
                return document_part(f.filename or "document", mime_type, content)
            except Exception as exc:  # gone from storage, unreachable, refused by the guard
                logger.warning("history file %s left out: %s", message_file.id, exc)
                return None

    def wanted_file(f: RequestFile) -> bool:
        if f.type == "image":
            return True
        return not text_only and sent_document_type(f, documents) is not None

    wanted = [
        (message_file, f)
        for message_file, upload in await stored_message_files(ids)
        if message_file.type in ("image", "document") and message_file.belongs_to == "user"
        if (f := _stored_file(message_file, upload)) is not None and wanted_file(f)
    ]
    parts = await asyncio.gather(*(part(message_file, f) for message_file, f in wanted))
    by_message: dict[str, list[dict[str, Any]]] = {}
    for (message_file, _), built in zip(wanted, parts, strict=True):
        if built is not None:
            by_message.setdefault(message_file.message_id, []).append(built)
    for turn in history:
        turn.parts = by_message.get(turn.message_id, [])
