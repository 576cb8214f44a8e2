"""Files named in chat and completion requests (`files`), checked as Dify checks them
(§12.5): ignored unless the app's file-upload feature is on; entries without a
`transfer_method` (or a `remote_url` without `url`) silently dropped; types, extensions,
transfer methods and counts against the app's `file_upload` config. Accepted files become
the user message's `message_files`."""

import posixpath
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlmodel import col, select

from app.core.db import session_scope
from app.core.errors import InvalidParam
from app.engine.features import feature_block
from app.models import MessageFile, UploadFile
from app.models.base import utcnow
from app.net.fetch import FetchError, parse_url
from app.services.files.file_classes import FILE_TYPES, detect_type, guess_mime

TRANSFER_METHODS = ("local_file", "remote_url", "tool_file", "datasource_file")
SUPPORTED_METHODS = ("local_file", "remote_url")
DEFAULT_NUMBER_LIMITS = 3


@dataclass(slots=True)
class FileUploadConfig:
    allowed_types: list[str] = field(default_factory=list)
    allowed_extensions: list[str] | None = None
    allowed_methods: list[str] = field(default_factory=list)
    number_limits: int = DEFAULT_NUMBER_LIMITS
    image_limits: int = DEFAULT_NUMBER_LIMITS
    image_methods: list[str] = field(default_factory=list)
    detail: str = "high"


@dataclass(slots=True)
class RequestFile:
    type: str
    transfer_method: str
    filename: str
    extension: str  # without the dot, lower case
    mime_type: str | None
    size: int
    upload: UploadFile | None = None
    url: str | None = None


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _limit(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and value > 0 else DEFAULT_NUMBER_LIMITS


def upload_config(features: dict[str, Any]) -> FileUploadConfig | None:
    """The app's file-upload feature, or None when it is off. Current DSL: `enabled` with
    `allowed_*` and `number_limits`; older DSL: only `image.enabled` (images only)."""
    raw = feature_block(features, "file_upload")
    image_raw = raw.get("image")
    image: dict[str, Any] = image_raw if isinstance(image_raw, dict) else {}
    detail = str(image.get("detail") or "high")
    if raw.get("enabled"):
        methods = _strings(raw.get("allowed_file_upload_methods"))
        limit = _limit(raw.get("number_limits"))
        extensions = raw.get("allowed_file_extensions")
        return FileUploadConfig(
            allowed_types=_strings(raw.get("allowed_file_types")),
            allowed_extensions=_strings(extensions) if extensions is not None else None,
            allowed_methods=methods,
            number_limits=limit,
            image_limits=limit,
            image_methods=methods,
            detail=detail,
        )
    if "enabled" not in raw and image.get("enabled"):
        methods = _strings(image.get("transfer_methods"))
        limit = _limit(image.get("number_limits"))
        return FileUploadConfig(["image"], None, methods, limit, limit, methods, detail)
    return None


def _is_allowed(cfg: FileUploadConfig, declared: str, f: RequestFile) -> bool:
    """Dify's `_is_file_valid_with_config`."""
    if cfg.allowed_types and declared not in cfg.allowed_types and declared != "custom":
        return False
    if declared == "custom" and cfg.allowed_extensions is not None:
        allowed = {e.lower().lstrip(".") for e in cfg.allowed_extensions}
        if f.extension not in allowed:
            return False
    if declared == "image":
        return not cfg.image_methods or f.transfer_method in cfg.image_methods
    return not cfg.allowed_methods or f.transfer_method in cfg.allowed_methods


def url_name(url: str) -> str:
    return unquote(posixpath.basename(urlsplit(url).path)) or "file"


def _extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


async def _local(app_id: str, entry: dict[str, Any]) -> RequestFile:
    raw_id = entry.get("upload_file_id")
    if not raw_id:
        raise InvalidParam("Invalid upload file id")
    try:
        file_id = str(uuid.UUID(str(raw_id)))
    except ValueError:
        raise InvalidParam("Invalid upload file id format") from None
    async with session_scope(read_only=True) as session:
        row = (
            await session.exec(
                select(UploadFile).where(UploadFile.id == file_id, UploadFile.app_id == app_id)
            )
        ).first()
    if row is None:
        raise InvalidParam("Invalid upload file")
    return RequestFile(
        type=detect_type(row.extension, row.mime_type),
        transfer_method="local_file",
        filename=row.name,
        extension=row.extension,
        mime_type=row.mime_type,
        size=row.size,
        upload=row,
    )


def _remote(entry: dict[str, Any]) -> RequestFile:
    url = str(entry["url"])
    try:
        parse_url(url)
    except FetchError as exc:
        raise InvalidParam(f"Invalid file url: {exc}") from None
    name = url_name(url)
    mime = guess_mime(name)
    ext = _extension(name)
    return RequestFile(detect_type(ext, mime), "remote_url", name, ext, mime, -1, url=url)


async def resolve_one(app_id: str, cfg: FileUploadConfig, entry: dict[str, Any]) -> RequestFile:
    method = str(entry["transfer_method"])
    if method not in TRANSFER_METHODS:
        raise InvalidParam(f"No matching enum found for value '{method}'")
    declared = str(entry.get("type") or "custom")
    if declared not in FILE_TYPES:
        raise InvalidParam(f"'{declared}' is not a valid FileType")
    if method not in SUPPORTED_METHODS:
        raise InvalidParam(f"Transfer method {method} is not supported by Kiln.")
    found = await _local(app_id, entry) if method == "local_file" else _remote(entry)
    if not _is_allowed(cfg, declared, found):
        raise InvalidParam(f"File validation failed for file: {found.filename}")
    if declared != "custom":
        found.type = declared  # Dify: a specified type wins over the detected one
    return found


async def resolve_files(
    app_id: str, features: dict[str, Any], entries: list[Any] | None
) -> tuple[list[RequestFile], FileUploadConfig | None]:
    cfg = upload_config(features)
    if cfg is None or not entries:
        return [], cfg
    files: list[RequestFile] = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("transfer_method"):
            continue
        if entry.get("transfer_method") == "remote_url" and not entry.get("url"):
            continue
        files.append(await resolve_one(app_id, cfg, entry))
    images = sum(1 for f in files if f.type == "image")
    if images > cfg.image_limits:
        raise InvalidParam(f"Number of image files exceeds the maximum limit {cfg.image_limits}")
    if cfg.number_limits and len(files) > cfg.number_limits:
        raise InvalidParam(f"Number of files exceeds the maximum limit {cfg.number_limits}")
    return files, cfg


async def attach_files(message_id: str, end_user_id: str, files: list[RequestFile]) -> None:
    """The user message's `message_files`, and the uploads marked used."""
    if not files:
        return
    now = utcnow()
    async with session_scope() as session:
        for index, f in enumerate(files):
            session.add(
                MessageFile(
                    message_id=message_id,
                    type=f.type,
                    transfer_method=f.transfer_method,
                    url=f.url,
                    belongs_to="user",
                    upload_file_id=f.upload.id if f.upload else None,
                    created_by_role="end_user",
                    created_by=end_user_id,
                    # a microsecond apart: listings and memory keep the request's order
                    created_at=now + timedelta(microseconds=index),
                )
            )
        upload_ids = [f.upload.id for f in files if f.upload is not None]
        if upload_ids:
            rows = await session.exec(select(UploadFile).where(col(UploadFile.id).in_(upload_ids)))
            for row in rows.all():
                row.used, row.used_by, row.used_at = True, end_user_id, now
                session.add(row)
