"""`POST /v1/files/upload`: stream one multipart file into storage with Dify's checks.

The size limit (per file class) is enforced while the body streams in; like Dify, Kiln does
not judge the content by its name (previews are served with `nosniff`). Dify reads the
whole form before its checks, so their order is kept: no `file` part, then more than one
file part, then the part's type and name. The object is stored under a uuid key; the
client's filename is only ever a display name. A rejected upload leaves no stored bytes
and no row.
"""

import hashlib
import posixpath
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import InvalidParam
from app.core.nul import NUL_REFUSED
from app.models import App, UploadFile
from app.services.end_users import lookup as end_users
from app.services.files.errors import (
    FilenameNotExists,
    FileTooLarge,
    NoFileUploaded,
    TooManyFiles,
    UnsupportedFileType,
)
from app.services.files.file_classes import largest_upload_limit, size_limit
from app.services.files.multipart import (
    Field,
    FileData,
    FileEnd,
    FileStart,
    MultipartReader,
    boundary_of,
)
from app.services.files.signing import signed_url
from app.storage import Storage, get_storage

INVALID_FILENAME_CHARS = frozenset('/\\:*?"<>|\x00')  # Dify's, and NUL (unstorable)
MAX_NAME = 200
MAX_KEY_EXTENSION = 16
COLUMN = 255  # upload_files.name / .extension


@dataclass(slots=True)
class _Stored:
    key: str
    name: str
    extension: str
    mime_type: str
    size: int
    hash: str


def clean_name(filename: str) -> tuple[str, str]:
    """Dify's rules: reject path-like characters, cut a long name to its first segment;
    return (name, extension)."""
    if any(char in INVALID_FILENAME_CHARS for char in filename):
        raise InvalidParam("Filename contains invalid characters")
    extension = posixpath.splitext(filename)[1].lstrip(".").lower()
    if len(filename) > MAX_NAME:
        filename = filename.split(".")[0][:MAX_NAME] + "." + extension
    return filename[:COLUMN], extension[:COLUMN]  # only absurd extensions meet the columns


def bare_mime_type(content_type: str) -> str:
    """The part's MIME type as Werkzeug reports it: no parameters, lower case."""
    return content_type.split(";", 1)[0].strip().lower()


def _key_suffix(extension: str) -> str:
    # The key is internal: a long or odd extension stays out of it (and out of file names).
    ok = extension.isalnum() and extension.isascii() and len(extension) <= MAX_KEY_EXTENSION
    return f".{extension}" if ok else ""


async def _file_chunks(
    reader: MultipartReader, limit: int, digest: "hashlib._Hash"
) -> AsyncIterator[bytes]:
    """The file part's bytes; the running size is checked against the limit on each chunk."""
    size = 0
    async for event in reader:
        if isinstance(event, FileEnd):
            break
        if not isinstance(event, FileData):
            continue
        size += len(event.data)
        if size > limit:
            raise FileTooLarge()
        digest.update(event.data)
        yield event.data


def _part_error(start: FileStart) -> Exception | None:
    if "\x00" in start.content_type:  # it would be stored as the file's MIME type
        return InvalidParam(NUL_REFUSED)
    if not bare_mime_type(start.content_type):
        return UnsupportedFileType()
    if not start.filename:
        return FilenameNotExists()
    try:
        clean_name(start.filename)
    except InvalidParam as exc:
        return exc
    return None


async def _store_part(
    app: App, start: FileStart, reader: MultipartReader, storage: Storage, settings: Settings
) -> _Stored:
    name, extension = clean_name(start.filename or "")
    key = f"upload_files/{app.id}/{uuid.uuid4()}{_key_suffix(extension)}"
    digest = hashlib.sha3_256()
    chunks = _file_chunks(reader, size_limit(extension, settings), digest)
    size = await storage.save(key, chunks)
    mime_type = bare_mime_type(start.content_type)
    return _Stored(key, name, extension, mime_type, size, digest.hexdigest())


async def _drain_file(reader: MultipartReader, limit: int) -> None:
    """Skip a part Kiln does not store, still bounded like a file it would."""
    size = 0
    async for event in reader:
        if isinstance(event, FileEnd):
            return
        if isinstance(event, FileData):
            size += len(event.data)
            if size > limit:
                raise FileTooLarge()


@dataclass(slots=True)
class _Form:
    stored: _Stored | None = None
    user: str | None = None
    file_parts: int = 0
    seen_file: bool = False
    deferred: Exception | None = None  # the `file` part's own fault, reported last


async def _read_form(
    app: App, reader: MultipartReader, storage: Storage, settings: Settings
) -> _Form:
    form = _Form()
    drain_limit = largest_upload_limit(settings)
    try:
        async for event in reader:
            if isinstance(event, Field):
                if event.name == "user":
                    form.user = event.value
                continue
            if not isinstance(event, FileStart):
                continue
            form.file_parts += 1
            is_file = event.name == "file" and not form.seen_file
            form.seen_file = form.seen_file or is_file
            if form.seen_file and form.file_parts > 1:
                raise TooManyFiles()
            fault = _part_error(event) if is_file else None
            if not is_file or fault is not None:
                form.deferred = form.deferred or fault
                await _drain_file(reader, drain_limit)
                continue
            form.stored = await _store_part(app, event, reader, storage, settings)
    except BaseException:
        if form.stored is not None:
            await storage.delete(form.stored.key)
        raise
    return form


async def upload(
    app: App, body: AsyncIterator[bytes], content_type: str, settings: Settings
) -> UploadFile:
    """Store the request's file and record it."""
    storage = get_storage(settings)
    boundary = boundary_of(content_type)
    if boundary is None:
        raise NoFileUploaded()
    reader = MultipartReader(body, boundary)
    stored: _Stored | None = None
    try:
        form = await _read_form(app, reader, storage, settings)
        stored = form.stored
        if not form.seen_file:
            raise NoFileUploaded()
        if form.deferred is not None:
            raise form.deferred
        assert stored is not None
        end_user = await end_users.get_or_create(app.id, form.user or None)
        row = UploadFile(
            app_id=app.id,
            storage_key=stored.key,
            name=stored.name,
            size=stored.size,
            extension=stored.extension,
            mime_type=stored.mime_type,
            hash=stored.hash,
            created_by_role="end_user",
            created_by=end_user.id,
        )
        row.source_url = signed_url(settings, row.id)
        async with session_scope() as session:
            session.add(row)
        return row
    except BaseException:
        if stored is not None:
            await storage.delete(stored.key)
        raise
