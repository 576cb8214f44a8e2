"""`message_files` of messages as `GET /v1/messages` returns them (Dify's message file
fields), loaded for a whole page in one query; local files get freshly signed URLs."""

from typing import Any

from sqlmodel import col, select

from app.core.config import get_settings
from app.core.db import read_scope, session_scope
from app.models import MessageFile, UploadFile
from app.services.files.file_classes import guess_mime
from app.services.files.request_files import url_name
from app.services.files.signing import signed_url


def _item(mf: MessageFile, upload: UploadFile | None) -> dict[str, Any]:
    if upload is not None:
        url: str | None = signed_url(get_settings(), upload.id)
        filename, mime, size = upload.name, upload.mime_type, upload.size
    else:
        url = mf.url
        filename = url_name(mf.url or "")
        mime, size = guess_mime(filename), -1
    return {
        "id": mf.id,
        "filename": filename,
        "type": mf.type,
        "url": url,
        "mime_type": mime,
        "size": size,
        "transfer_method": mf.transfer_method,
        "belongs_to": mf.belongs_to or "user",
        "upload_file_id": mf.upload_file_id,
    }


def _files_of(message_ids: list[str]) -> Any:
    return (
        select(MessageFile, UploadFile)
        .join(UploadFile, col(UploadFile.id) == col(MessageFile.upload_file_id), isouter=True)
        .where(col(MessageFile.message_id).in_(message_ids))
        .order_by(col(MessageFile.created_at), col(MessageFile.id))
    )


async def stored_message_files(
    message_ids: list[str],
) -> list[tuple[MessageFile, UploadFile | None]]:
    """The messages' files with their uploads (None for remote URLs), in request order
    (a generation's history: the main pool)."""
    if not message_ids:
        return []
    async with session_scope(read_only=True) as session:
        return [(mf, upload) for mf, upload in (await session.exec(_files_of(message_ids))).all()]


async def message_files_for(message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """`message_files` of listed messages (a read request: the read pool)."""
    if not message_ids:
        return {}
    async with read_scope() as session:
        rows = (await session.exec(_files_of(message_ids))).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for mf, upload in rows:
        found.setdefault(mf.message_id, []).append(_item(mf, upload))
    return found
