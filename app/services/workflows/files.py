"""Files in graph apps: a request's or an input's files as workflow file values, and file
values back into model parts for vision inputs."""

from collections.abc import Sequence
from typing import Any

from app.core.config import Settings
from app.core.db import session_scope
from app.engine.multimodal import image_part
from app.engine.variables.values import FileValue
from app.models import UploadFile
from app.services.files.prompt_parts import image_url
from app.services.files.request_files import RequestFile
from app.services.files.signing import signed_url


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


def vision_parts(settings: Settings) -> Any:
    """The engine's `file_parts` service: image files as `image_url` parts."""

    async def parts(files: Sequence[FileValue], detail: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for value in files:
            if value.type != "image":
                continue
            found.append(image_part(await image_url(settings, await _request_file(value)), detail))
        return found

    return parts
