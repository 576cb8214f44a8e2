"""`POST /v1/files/upload`: stream one multipart file into storage with Dify's checks.

The size limit (per file class) is enforced while the body streams in, and the extension is
checked against the content's first bytes before anything is written. The object is stored
under a uuid key; the client's filename is only ever a display name. A rejected upload
leaves no stored bytes and no row.
"""

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import InvalidParam
from app.models import App, UploadFile
from app.services import end_users
from app.services.files_errors import (
    FilenameNotExists,
    FileTooLarge,
    NoFileUploaded,
    TooManyFiles,
    UnsupportedFileType,
)
from app.services.files_multipart import (
    Field,
    FileData,
    FileEnd,
    FileStart,
    MultipartReader,
    boundary_of,
)
from app.services.files_signing import signed_url
from app.services.files_types import SNIFF_BYTES, content_matches, size_limit
from app.storage import Storage, get_storage

INVALID_FILENAME_CHARS = frozenset('/\\:*?"<>|')
MAX_NAME = 200


@dataclass(slots=True)
class _Stored:
    key: str
    name: str
    extension: str
    mime_type: str
    size: int
    hash: str


def clean_name(filename: str) -> tuple[str, str]:
    """Dify's rules: reject path-like characters, cut long stems; return (name, extension)."""
    if any(char in INVALID_FILENAME_CHARS for char in filename):
        raise InvalidParam("Filename contains invalid characters")
    stem, dot, ext = filename.rpartition(".")
    extension = ext.lower() if dot else ""
    if len(filename) > MAX_NAME:
        filename = (stem[:MAX_NAME] + "." + extension) if dot else filename[:MAX_NAME]
    return filename, extension[:32]


def _key_suffix(extension: str) -> str:
    return f".{extension}" if extension.isalnum() and extension.isascii() else ""


async def _file_chunks(
    reader: MultipartReader, extension: str, limit: int, digest: "hashlib._Hash"
) -> AsyncIterator[bytes]:
    """The file part's bytes: the head is sniffed before the first byte is yielded; the
    running size is checked against the limit on every chunk."""
    head = b""
    size = 0
    sniffed = False
    async for event in reader:
        if isinstance(event, FileEnd):
            break
        if not isinstance(event, FileData):
            continue
        size += len(event.data)
        if size > limit:
            raise FileTooLarge()
        digest.update(event.data)
        if sniffed:
            yield event.data
            continue
        head += event.data
        if len(head) >= SNIFF_BYTES:
            if not content_matches(extension, head):
                raise UnsupportedFileType()
            sniffed = True
            yield head
    if not sniffed:
        if not content_matches(extension, head):
            raise UnsupportedFileType()
        if head:
            yield head


async def _store_part(
    app: App, start: FileStart, reader: MultipartReader, storage: Storage, settings: Settings
) -> _Stored:
    if not start.content_type:
        raise UnsupportedFileType()
    if not start.filename:
        raise FilenameNotExists()
    name, extension = clean_name(start.filename)
    key = f"upload_files/{app.id}/{uuid.uuid4()}{_key_suffix(extension)}"
    digest = hashlib.sha3_256()
    chunks = _file_chunks(reader, extension, size_limit(extension, settings), digest)
    size = await storage.save(key, chunks)
    return _Stored(key, name, extension, start.content_type, size, digest.hexdigest())


async def _drain_file(reader: MultipartReader) -> None:
    async for event in reader:
        if isinstance(event, FileEnd):
            return


async def _read_form(
    app: App, reader: MultipartReader, storage: Storage, settings: Settings
) -> tuple[_Stored | None, str | None, int]:
    stored: _Stored | None = None
    user: str | None = None
    file_parts = 0
    try:
        async for event in reader:
            if isinstance(event, Field):
                if event.name == "user":
                    user = event.value
            elif isinstance(event, FileStart):
                file_parts += 1
                if file_parts > 1:
                    raise TooManyFiles()
                if event.name != "file":
                    await _drain_file(reader)
                    continue
                stored = await _store_part(app, event, reader, storage, settings)
    except BaseException:
        if stored is not None:
            await storage.delete(stored.key)
        raise
    return stored, user, file_parts


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
        stored, user, file_parts = await _read_form(app, reader, storage, settings)
        if stored is None:
            raise TooManyFiles() if file_parts > 1 else NoFileUploaded()
        end_user = await end_users.get_or_create(app.id, user or None)
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
